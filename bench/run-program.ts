/**
 * What `otel-mlflow run` costs the program it runs, measured on an unchanged program with and without
 * it (bench/run-program-app.mjs), each alternately, in one run:
 * - the preloaded instrumentation per LLM call: a RAG-sized `chat.completions.create()` answered from
 *   memory, with content capture, its span handed to the tool's receiver (target: at most ~50 µs added,
 *   as for serve's own instrumentation);
 * - the program's request throughput: a node:http server making one such call per request, driven by
 *   8 keep-alive connections (target ≥ 0.9× of the untraced program); the tool's receiver and store
 *   run beside it, on the same cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, cleanEnv, runNode, startNode } from './children.ts';
import { driveLoad } from './load.ts';
import { median, type Row } from './stats.ts';

const APP = fileURLToPath(new URL('./run-program-app.mjs', import.meta.url));
const CONNECTIONS = 8;
const QUESTION = JSON.stringify({ question: 'How does MLflow show the steps of my agent?' });

export interface RunProgramOptions {
  /** Alternations of traced and untraced. */
  rounds: number;
  calls: number;
  durationMs: number;
  warmupMs: number;
}

export async function benchRunProgram(options: RunProgramOptions): Promise<Row[]> {
  const home = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-run-'));
  const env = cleanEnv({ HOME: home, OTEL_MLFLOW_STORE_DIR: join(home, 'store') });
  const under = (traced: boolean, args: string[]) => (traced ? [BIN, 'run', '--', process.execPath, APP, ...args] : [APP, ...args]);
  try {
    const perCall: Record<'traced' | 'untraced', number[]> = { traced: [], untraced: [] };
    const throughput: Record<'traced' | 'untraced', number[]> = { traced: [], untraced: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const traced of [false, true]) {
        const out = await runNode(under(traced, ['calls', String(options.calls), '5']), { env, cwd: home });
        perCall[traced ? 'traced' : 'untraced'].push((JSON.parse(out) as { microsecondsPerCall: number }).microsecondsPerCall);

        const server = await startNode(under(traced, ['serve']), { env, cwd: home, ready: /listening on (http:\/\/\S+)/ });
        try {
          const url = server.ready[1]!;
          await driveLoad(url, QUESTION, { connections: CONNECTIONS, durationMs: options.warmupMs });
          const load = await driveLoad(url, QUESTION, { connections: CONNECTIONS, durationMs: options.durationMs });
          throughput[traced ? 'traced' : 'untraced'].push(load.perSecond);
        } finally {
          await server.stop(30_000);
        }
      }
    }
    const [tracedUs, untracedUs] = [median(perCall.traced), median(perCall.untraced)];
    const addedUs = tracedUs - untracedUs;
    const [tracedRps, untracedRps] = [median(throughput.traced), median(throughput.untraced)];
    return [
      {
        name: 'run: openai create() in the program, preloaded / not',
        raw: `${tracedUs.toFixed(1)} µs / ${untracedUs.toFixed(1)} µs (+${addedUs.toFixed(1)} µs)`,
        ratio: tracedUs / untracedUs,
        target: '+≤ ~50 µs',
        met: addedUs <= 50,
      },
      {
        name: 'run: the program’s node:http requests, under run / not',
        raw: `${tracedRps.toFixed(0)} req/s / ${untracedRps.toFixed(0)} req/s`,
        ratio: tracedRps / untracedRps,
        target: '≥ 0.90×',
        met: tracedRps / untracedRps >= 0.9,
      },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
