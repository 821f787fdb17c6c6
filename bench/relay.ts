import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BIN, cleanEnv, startNode } from './children.ts';
import { mb, median, procCpuMs, procStatusBytes, type Row } from './stats.ts';

/** The stock SDK child of the CPU bench, in its `stock` mode: an app with BatchSpanProcessor and OTLPTraceExporter. */
const CLIENT = fileURLToPath(new URL('./tracing-cpu-child.ts', import.meta.url));
const run = promisify(execFile);
/** The OpenTelemetry Collector's figure for the same work, in memory: about 10,000 spans/s per core. */
const COLLECTOR_SPANS_PER_CORE = 10_000;
const CLIENTS = 4;

/**
 * The relay as real OTLP clients meet it: `CLIENTS` processes with the stock SDK's BatchSpanProcessor
 * and OTLPTraceExporter (protobuf) send doctor-shaped traces at once; the relay answers each request
 * only once its spans are committed to its store. Spans per second of the relay's own CPU, against the
 * Collector's in-memory figure. Then, with its MLflow down, what the relay holds in memory once 100k
 * spans wait on its disk.
 */
export async function benchRelay(options: { tracesPerClient: number; rounds: number; backlogSpans: number }): Promise<Row[]> {
  const home = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-relay-'));
  try {
    const perCore: number[] = [];
    const perSecond: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const result = await drive(join(home, `rate-${round}`), {}, options.tracesPerClient);
      perCore.push(result.spans / (result.cpuMs / 1000));
      perSecond.push(result.spans / (result.wallMs / 1000));
    }
    const rate = median(perCore);
    const backlog = await drive(
      join(home, 'backlog'),
      // A closed port: MLflow down, everything waits on disk.
      { MLFLOW_TRACKING_URI: 'http://127.0.0.1:9' },
      Math.ceil(options.backlogSpans / 4 / CLIENTS),
    );
    return [
      {
        name: 'relay: spans acknowledged on disk per core / Collector in memory',
        raw: `${rate.toFixed(0)} / ${COLLECTOR_SPANS_PER_CORE} spans/s per core (${median(perSecond).toFixed(0)} spans/s from ${CLIENTS} stock SDK clients)`,
        ratio: rate / COLLECTOR_SPANS_PER_CORE,
        target: '≥ 1.00×',
        met: rate >= COLLECTOR_SPANS_PER_CORE,
      },
      {
        name: `relay RSS with a ${Math.round(backlog.spans / 1000)}k-span backlog (MLflow down)`,
        raw: `${mb(backlog.rss)} (peak ${mb(backlog.peakRss)})`,
        target: '< 200 MB',
        met: backlog.peakRss < 200 * 1024 ** 2,
      },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function drive(dir: string, env: Record<string, string>, tracesPerClient: number) {
  const relay = await startNode([BIN, 'relay', '--port', '0', '--grpc-port', 'off', '--store-dir', join(dir, 'store')], {
    env: cleanEnv({ HOME: dir, ...env }),
    ready: /OTLP\/HTTP on (http:\/\/\S+\/v1\/traces)/,
  });
  try {
    const pid = relay.child.pid!;
    const cpuBefore = procCpuMs(pid) ?? 0;
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        run(process.execPath, [CLIENT, 'stock', relay.ready[1]!, String(tracesPerClient)], { env: cleanEnv({}) }),
      ),
    );
    const wallMs = performance.now() - started;
    const cpuMs = (procCpuMs(pid) ?? 0) - cpuBefore;
    const spans = results.reduce((sum, { stdout }) => sum + (JSON.parse(stdout) as { sent: number }).sent, 0);
    return { spans, cpuMs, wallMs, rss: procStatusBytes(pid, 'VmRSS') ?? 0, peakRss: procStatusBytes(pid, 'VmHWM') ?? 0 };
  } finally {
    await relay.stop(20_000);
  }
}
