import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { TraceStore, type StoreOptions } from '../../src/pipeline/store/trace-store.ts';
import { encodeTrace } from '../../src/destination/encode-trace.ts';
import { readableSpan } from '../fakes/readable-spans.ts';
import { chatTrace, memoryTracer } from '../tracing/span-fixtures.ts';

/** Stores for one test file, each in a directory of its own; closed and removed when the file's tests end. */
export function temporaryStores(): { dir(): string; open(options?: StoreOptions, dir?: string): TraceStore } {
  let root = '';
  let count = 0;
  const opened: TraceStore[] = [];
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'otel-mlflow-store-'));
  });
  after(async () => {
    for (const store of opened) store.close();
    await rm(root, { recursive: true, force: true });
  });
  const dir = () => join(root, `store-${++count}`, 'traces');
  return {
    dir,
    open(options = {}, at = dir()) {
      const store = TraceStore.open(at, options);
      opened.push(store);
      return store;
    },
  };
}

/** Writes SDK spans as one trace, pending for `destination` or else local-only; answers its `tr-` id. */
export function save(store: TraceStore, spans: ReadableSpan[], destination?: string): string {
  store.writes.write([{ ...encodeTrace([...spans]), origin: 'test', ...(destination && { destination }) }]);
  return `tr-${spans[0]!.spanContext().traceId}`;
}

/** One real chat trace from the SDK: ids, nanosecond times, attributes, an event, a resource. */
export function realChatTrace(options: { error?: boolean } = {}): ReadableSpan[] {
  const { tracer, finished } = memoryTracer();
  chatTrace(tracer, options);
  return finished();
}

/** A one-span trace that started at `startMs`, with the status given. */
export function traceAt(hex: string, startMs: number, statusCode: 0 | 1 | 2 = 1): ReadableSpan[] {
  return [readableSpan({ traceId: hex, spanId: hex.slice(0, 16), name: `root-${hex.slice(0, 4)}`, startMs, statusCode })];
}

/** 32 hex digits: `prefix`, then `digit` repeated. */
export const hex = (digit: string, prefix = '') => (prefix + digit.repeat(32)).slice(0, 32);
