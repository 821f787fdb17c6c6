import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceStore } from '../src/pipeline/store/trace-store.ts';
import type { TraceToStore } from '../src/pipeline/store/trace-writes.ts';
import { encodeLocalTrace } from '../src/destination/encode-trace.ts';
import { copiesOf, doctorTrace } from './doctor-traces.ts';
import { median, type Row } from './stats.ts';

/** What the store writer commits at once when traces arrive at 10,000/s: 25 ms of them. */
const GROUP = 250;
const DESTINATION = 'bench-destination';

function groups<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function withStore<T>(work: (store: TraceStore, dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-store-'));
  const store = TraceStore.open(dir);
  try {
    return work(store, dir);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seconds to write `traces` in groups, one transaction (and fsync) per group. */
function timeStoreWrites(traces: readonly TraceToStore[]): number {
  return withStore((store) => {
    const started = performance.now();
    for (const group of groups(traces, GROUP)) store.writes.write(group);
    return (performance.now() - started) / 1000;
  });
}

/** Seconds to append the same span bytes to a plain file, fsynced per group as the store commits. */
function timeRawWrites(traces: readonly TraceToStore[]): number {
  const buffers = groups(traces, GROUP).map((group) => Buffer.concat(group.map((trace) => trace.otlp)));
  const dir = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-raw-'));
  const fd = openSync(join(dir, 'raw'), 'w');
  try {
    const started = performance.now();
    for (const buffer of buffers) {
      writeSync(fd, buffer);
      fsyncSync(fd);
    }
    return (performance.now() - started) / 1000;
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Store write rate of doctor-sized traces against the disk's own sequential write + fsync of the same bytes. */
export function benchStoreWrites(options: { traces: number; rounds: number }): Row[] {
  const template = doctorTrace();
  const storeS: number[] = [];
  const rawS: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const traces = copiesOf(template, options.traces, { destination: DESTINATION });
    storeS.push(timeStoreWrites(traces));
    rawS.push(timeRawWrites(traces));
  }
  const storeRate = options.traces / median(storeS);
  const rawRate = options.traces / median(rawS);
  const bytes = encodeLocalTrace(template).otlp.length;
  return [
    {
      name: `store write, groups of ${GROUP} / raw write+fsync`,
      raw: `${storeRate.toFixed(0)} / ${rawRate.toFixed(0)} traces/s of ${bytes} B`,
      ratio: storeRate / rawRate,
      target: '≥ 10,000 traces/s',
      met: storeRate >= 10_000,
    },
  ];
}

/**
 * The cost of one more group write, and of `traces list` (the newest 20), as the store fills from
 * 1,000 to 100,000 pending traces: both should stay flat.
 */
export function benchStoreGrowth(options: { sizes: number[]; samples: number }): Row[] {
  const template = doctorTrace();
  return withStore((store) => {
    let held = 0;
    const points: { size: number; writeUs: number; listMs: number }[] = [];
    for (const size of options.sizes) {
      for (const group of groups(copiesOf(template, size - held, { destination: DESTINATION, firstIndex: held }), GROUP))
        store.writes.write(group);
      held = size;
      const writeUs: number[] = [];
      const listMs: number[] = [];
      for (let i = 0; i < options.samples; i++) {
        const group = copiesOf(template, GROUP, { destination: DESTINATION, firstIndex: held });
        let started = performance.now();
        store.writes.write(group);
        writeUs.push(((performance.now() - started) * 1000) / GROUP);
        held += GROUP;
        started = performance.now();
        store.reads.list({ limit: 20 });
        listMs.push(performance.now() - started);
      }
      points.push({ size, writeUs: median(writeUs), listMs: median(listMs) });
    }
    const first = points[0]!;
    const last = points.at(-1)!;
    const series = (pick: (point: (typeof points)[number]) => string) =>
      points.map((point) => `${formatCount(point.size)} ${pick(point)}`).join(', ');
    return [
      {
        name: 'store group write per trace, by traces held',
        raw: series((p) => `${p.writeUs.toFixed(1)} µs`),
        ratio: last.writeUs / first.writeUs,
        target: 'flat (~1.0)',
      },
      {
        name: 'store list({limit: 20}), by traces held',
        raw: series((p) => `${p.listMs.toFixed(2)} ms`),
        ratio: last.listMs / first.listMs,
        target: 'flat (~1.0)',
      },
    ];
  });
}

function formatCount(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}
