import type { OutboxEvent, OutboxStats } from '../outbox.ts';
import type { StoreOptions, TraceToStore } from '../store/trace-store.ts';
import type { DestinationSpec } from './destination-spec.ts';

export interface WorkerInit {
  storeDir: string;
  storeOptions: Omit<StoreOptions, 'now'>;
  destination?: DestinationSpec;
  deliverInBackground: boolean;
  /** One Int32: traces handed to the worker and not yet written (the producer's back-pressure). */
  backlog: SharedArrayBuffer;
}

export type ToWorker =
  | { type: 'traces'; traces: TraceToStore[] }
  /** Answered with `stored` once the traces are committed (the relay answers its clients only then). */
  | { type: 'store'; id: number; traces: TraceToStore[] }
  | { type: 'destination'; destination: DestinationSpec }
  | { type: 'flush'; id: number; deadlineMs: number }
  | { type: 'close'; id: number; deadlineMs: number };

export type FromWorker =
  | { type: 'event'; event: OutboxEvent; stats: OutboxStats }
  | { type: 'done'; id: number; stats: OutboxStats }
  | { type: 'stored'; id: number; refusedIds: string[] }
  | { type: 'failed'; id?: number; message: string };
