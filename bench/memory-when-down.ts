import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, runNode } from './children.ts';
import { mb, type Row } from './stats.ts';

const CHILD = fileURLToPath(new URL('./memory-when-down-child.js', import.meta.url));
const TARGET_BYTES = 200 * 1024 ** 2;

/** Resident memory of a process that produced `traces` traces while its destination refused connections. */
export async function benchMemoryWhenDown(options: { traces: number }): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-down-'));
  try {
    const out = await runNode(['--expose-gc', CHILD, join(dir, 'store'), String(options.traces)], {
      env: cleanEnv({ HOME: dir }),
      cwd: dir,
    });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as {
      startedRss: number;
      rss: number;
      peakRss: number;
      heapTotal: number;
      liveHeap: number;
      stored: number;
      pending: number;
      lastFailure?: string;
    };
    if (result.stored !== options.traces || result.pending !== options.traces)
      throw new Error(`${options.traces} traces should be stored and pending: ${out}`);
    return [
      {
        name: `RSS after ${options.traces / 1000}k traces, destination down`,
        raw: `${mb(result.rss)} (peak ${mb(result.peakRss)}, start ${mb(result.startedRss)}, V8 heap ${mb(result.heapTotal)}, live ${mb(result.liveHeap)})`,
        target: '< 200 MB',
        met: result.rss < TARGET_BYTES,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
