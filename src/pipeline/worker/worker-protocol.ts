import type { AuthSettings } from '../../config/types.ts';
import type { ResolvedDestination } from '../../destination/resolved-destination.ts';
import type { OutboxEvent, OutboxStats } from '../outbox.ts';
import type { StoreOptions } from '../store/trace-store.ts';
import type { TraceToStore } from '../store/trace-writes.ts';

export interface WorkerInit {
  storeDir: string;
  storeOptions: Omit<StoreOptions, 'now'>;
  /** How the worker signs its requests: it makes its own clients (sockets and token caches do not cross threads). */
  auth: AuthSettings;
  /** The configured secrets the parent remembers: answers the worker keeps are masked as the parent's text is. */
  secrets: readonly string[];
  destinations: ResolvedDestination[];
  deliverInBackground: boolean;
  /** One Int32: traces handed to the worker and not yet written (the producer's back-pressure). */
  backlog: SharedArrayBuffer;
}

export type ToWorker =
  | { type: 'traces'; traces: TraceToStore[] }
  /** Answered with `stored` once the traces are committed (the relay answers its clients only then). */
  | { type: 'store'; id: number; traces: TraceToStore[] }
  | { type: 'destination'; destination: ResolvedDestination }
  | { type: 'flush'; id: number; deadlineMs: number; releaseHolds?: boolean }
  | { type: 'close'; id: number; deadlineMs: number }
  /** A person asked to stop waiting: a flush under way returns once the requests in flight were answered. */
  | { type: 'interrupt' };

export type FromWorker =
  | { type: 'event'; event: OutboxEvent; stats: OutboxStats }
  | { type: 'done'; id: number; stats: OutboxStats }
  | { type: 'stored'; id: number; refusedIds: string[] }
  | { type: 'failed'; id?: number; message: string };
