/**
 * `npm run bench`: speed and memory checks of otel-mlflow, each reported with its absolute figures
 * and, where there is one, a ratio against a baseline measured in the same run (so the machine's speed
 * largely cancels out) and the target it is held to. Everything stays on 127.0.0.1; child processes
 * are killed at the end, also on failure. BENCH_QUICK=1 runs each part once and short, to try changes.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { benchDelivery } from './delivery.ts';
import { benchMemoryWhenDown } from './memory-when-down.ts';
import { benchMicro } from './micro.ts';
import { benchRelay } from './relay.ts';
import { benchRunProgram } from './run-program.ts';
import { benchServe } from './serve-overhead.ts';
import { formatTable, type Row } from './stats.ts';
import { benchStoreGrowth, benchStoreWrites } from './store.ts';
import { benchTracingCpu } from './tracing-cpu.ts';

const quick = process.env.BENCH_QUICK === '1';
const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

console.log(
  `machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown cpu'}), node ${process.version}, ${process.platform}; load average at start ${load()}`,
);
const sections: [string, () => Row[] | Promise<Row[]>][] = [
  ['single operations', () => benchMicro()],
  ['serve', () => benchServe(quick ? { rounds: 1, durationMs: 2000, warmupMs: 500 } : { rounds: 8, durationMs: 1500, warmupMs: 1000 })],
  ['tracing CPU per span', () => benchTracingCpu(quick ? { traces: 2000, rounds: 1 } : { traces: 5000, rounds: 3 })],
  [
    'relay',
    () =>
      benchRelay(
        quick ? { tracesPerClient: 1000, rounds: 1, backlogSpans: 20_000 } : { tracesPerClient: 3000, rounds: 3, backlogSpans: 100_000 },
      ),
  ],
  [
    'run',
    () =>
      benchRunProgram(
        quick
          ? { rounds: 1, calls: 2000, durationMs: 2000, warmupMs: 6000 }
          : { rounds: 3, calls: 2000, durationMs: 3000, warmupMs: 12_000 },
      ),
  ],
  ['store writes', () => benchStoreWrites(quick ? { traces: 5000, rounds: 1 } : { traces: 10_000, rounds: 3 })],
  ['delivery', () => benchDelivery(quick ? { traces: 400, rounds: 1 } : { traces: 1000, rounds: 3 })],
  ['memory', () => benchMemoryWhenDown({ traces: quick ? 20_000 : 100_000 })],
  ['store growth', () => benchStoreGrowth({ sizes: quick ? [1000, 10_000] : [1000, 10_000, 100_000], samples: quick ? 3 : 7 })],
];
const rows: Row[] = [];
for (const [name, bench] of sections) {
  const started = performance.now();
  rows.push(...(await bench()));
  console.error(`${name}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
console.log(formatTable(rows));
console.log(`load average at end ${load()}`);
