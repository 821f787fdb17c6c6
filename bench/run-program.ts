/**
 * What `otel-mlflow run` costs the program it runs, measured on an unchanged program with and without
 * it (bench/run-program-app.mjs), each alternately, in one run:
 * - the preloaded instrumentation per LLM call: a RAG-sized `chat.completions.create()` answered from
 *   memory, with content capture, its span handed to the tool's receiver (target: at most ~50 µs added,
 *   as for serve's own instrumentation);
 * - the program's request throughput: a node:http server making one such call per request, driven by
 *   8 keep-alive connections (target ≥ 0.9× of the untraced program); the tool's receiver and store
 *   run beside it, on the same cores;
 * - the CPU each request costs the program and, under run, the tool's process (receiver, store,
 *   delivery), which the throughput ratio hides when the cores are shared with other work.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, cleanEnv, runNode, startNode } from './children.ts';
import { driveLoad } from './load.ts';
import { median, procCpuMs, type Row } from './stats.ts';

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
    const programCpuUs: Record<'traced' | 'untraced', number[]> = { traced: [], untraced: [] };
    const toolCpuUs: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      for (const traced of [false, true]) {
        const out = await runNode(under(traced, ['calls', String(options.calls), '5']), { env, cwd: home });
        perCall[traced ? 'traced' : 'untraced'].push((JSON.parse(out) as { microsecondsPerCall: number }).microsecondsPerCall);

        const server = await startNode(under(traced, ['serve']), { env, cwd: home, ready: /listening on (http:\/\/\S+)/ });
        try {
          const url = server.ready[1]!;
          await driveLoad(url, QUESTION, { connections: CONNECTIONS, durationMs: options.warmupMs });
          // Under run, the program is the tool's child; without it, the started process itself.
          const toolPid = server.child.pid!;
          const programPid = traced ? (childOf(toolPid) ?? toolPid) : toolPid;
          const [programBefore, toolBefore] = [procCpuMs(programPid) ?? 0, procCpuMs(toolPid) ?? 0];
          const load = await driveLoad(url, QUESTION, { connections: CONNECTIONS, durationMs: options.durationMs });
          const key = traced ? 'traced' : 'untraced';
          throughput[key].push(load.perSecond);
          programCpuUs[key].push((((procCpuMs(programPid) ?? 0) - programBefore) * 1000) / load.requests);
          if (traced) toolCpuUs.push((((procCpuMs(toolPid) ?? 0) - toolBefore) * 1000) / load.requests);
        } finally {
          await server.stop(30_000);
        }
      }
    }
    const [tracedUs, untracedUs] = [median(perCall.traced), median(perCall.untraced)];
    const addedUs = tracedUs - untracedUs;
    const [tracedRps, untracedRps] = [median(throughput.traced), median(throughput.untraced)];
    const [programTraced, programUntraced, tool] = [median(programCpuUs.traced), median(programCpuUs.untraced), median(toolCpuUs)];
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
      {
        name: 'run: CPU per request, program + tool under run / program alone',
        raw: `${programTraced.toFixed(0)} + ${tool.toFixed(0)} µs / ${programUntraced.toFixed(0)} µs`,
        ratio: (programTraced + tool) / programUntraced,
      },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The first process whose parent is `pid` (run's one program), from /proc; undefined when there is none. */
function childOf(pid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent's pid is the 2nd field after the command name, which may itself hold spaces.
      if (Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}
