import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { encodeTrace } from '../../src/destination/encode-trace.ts';
import { TraceStore } from '../../src/pipeline/store/trace-store.ts';

/** Opens the store a command used, reads it, and closes it again (the command may run again next). */
export function withStore<T>(dir: string, read: (store: TraceStore) => T): T {
  const store = TraceStore.open(dir);
  try {
    return read(store);
  } finally {
    store.close();
  }
}

/** Puts SDK spans into the store as a command in local-only mode would have. */
export function saveSpans(store: TraceStore, spans: ReadableSpan[], origin = 'ask'): void {
  store.writes.write([{ ...encodeTrace([...spans]), origin }]);
}
