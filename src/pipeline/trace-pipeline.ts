import { withoutContent } from '../tracing/content-filter.ts';
import { TraceAssembler } from './assemble/trace-assembler.ts';
import { Deliverer, type DeliveryEvent, type DeliveryStats } from './deliver/deliverer.ts';
import type { Destination } from './destinations/destination.ts';
import { StoreWriter } from './store/store-writer.ts';
import type { DeliveryInfo, LocalSpan } from './store/stored-trace.ts';
import { TraceStore, type StateCounts, type StoreOptions } from './store/trace-store.ts';

/** Failed tries in a row after which a one-shot command stops waiting and leaves the rest pending. */
const ONE_SHOT_MAX_FAILURES = 3;
/** Dead letters remembered for the closing report; the store keeps all of them. */
const REPORTED_DEAD_LETTERS = 20;

export interface PipelineOptions {
  storeDir: string;
  storeOptions?: StoreOptions;
  /** Absent: local-only mode, traces stay in the store. */
  destination?: Destination;
  /** A destination that could not be reached now: traces wait on disk for it (its key). */
  destinationKey?: string;
  /** The command producing the traces (`serve`, `ask`, `doctor`, …), kept with each. */
  origin: string;
  captureContent?: boolean;
  /** Long-running processes deliver in the background; one-shot commands at flush. */
  deliverInBackground?: boolean;
  onEvent?: (event: PipelineEvent) => void;
}

export type PipelineEvent =
  | DeliveryEvent
  | { kind: 'store-refused'; traces: number; reason: string }
  | { kind: 'store-near-cap'; bytes: number; maxBytes: number };

export interface PipelineReport {
  storeDir: string;
  /** Where traces go; absent in local-only mode. */
  destination?: string;
  /** Traces this process wrote to the store. */
  stored: number;
  /** Traces this process could not store (store full or failing), with the reason. */
  refused: number;
  refusedReason?: string;
  /** Delivered by this process (its own traces and any that earlier runs left). */
  delivered: number;
  dead: number;
  /** Still pending for this destination in the store, whoever wrote them. */
  pending: number;
  /** Why the last try failed, while the destination has not recovered. */
  lastFailure?: DeliveryStats['lastFailure'];
  deadLetters: { traceId: string; status?: number; answer: string }[];
}

/**
 * The one way traces leave a process: span → trace assembly → the store (which is also the outbox)
 * → a deliverer that batches → the destination. Local-only mode is the same pipeline without a
 * destination.
 */
export class TracePipeline {
  readonly store: TraceStore;
  readonly assembler: TraceAssembler;
  readonly deliverer: Deliverer | undefined;
  readonly #writer: StoreWriter;
  readonly #onEvent: (event: PipelineEvent) => void;
  #stored = 0;
  #refused = 0;
  #refusedReason: string | undefined;
  #warnedNearCap = false;
  readonly #deadLetters: PipelineReport['deadLetters'] = [];
  #closed = false;
  readonly #destinationKey: string | undefined;
  #lastPending = 0;

  constructor(options: PipelineOptions) {
    this.#onEvent = options.onEvent ?? (() => {});
    this.store = TraceStore.open(options.storeDir, options.storeOptions);
    const destination = options.destination;
    this.deliverer =
      destination &&
      new Deliverer({
        store: this.store,
        destination,
        onEvent: (event) => {
          if (event.kind === 'dead' && this.#deadLetters.length < REPORTED_DEAD_LETTERS) {
            const { kind: _kind, ...letter } = event;
            this.#deadLetters.push(letter);
          }
          this.#onEvent(event);
        },
      });
    this.#writer = new StoreWriter(this.store, {
      onWrite: (result, error) => {
        this.#stored += result.written;
        if (result.refused > 0) {
          this.#refused += result.refused;
          this.#refusedReason = error
            ? `the store ${this.store.path} failed: ${error instanceof Error ? error.message : String(error)}`
            : `the store ${this.store.path} is full (${formatMb(this.store.maxBytes)} cap) and holds only undelivered traces`;
          this.#onEvent({ kind: 'store-refused', traces: result.refused, reason: this.#refusedReason });
        }
        if (result.nearCap && !this.#warnedNearCap) {
          this.#warnedNearCap = true;
          this.#onEvent({ kind: 'store-near-cap', bytes: this.store.bytes(), maxBytes: this.store.maxBytes });
        }
        if (result.written > 0) this.deliverer?.wake();
      },
    });
    const origin = options.origin;
    const key = destination?.key ?? options.destinationKey;
    this.#destinationKey = key;
    this.assembler = new TraceAssembler({
      onTrace: (spans: LocalSpan[]) => this.#writer.enqueue({ spans, origin, ...(key && { destination: key }) }),
      ...(options.captureContent === false && { prepare: (span: LocalSpan) => ({ ...span, attributes: withoutContent(span.attributes) as LocalSpan['attributes'] }) }),
    });
    if (options.deliverInBackground) this.deliverer?.start();
  }

  get destination(): Destination | undefined {
    return this.deliverer?.destination;
  }

  /** Where one trace stands, by its OTel (hex) trace id. */
  deliveryOf(hexTraceId: string): DeliveryInfo | undefined {
    this.#writer.flush();
    return this.store.deliveryOf(hexTraceId.toLowerCase());
  }

  counts(): StateCounts {
    return this.#destinationKey ? this.store.counts(this.#destinationKey) : this.store.counts();
  }

  /** Stores every finished trace now, then delivers what is pending within the deadline. */
  async flush(deadlineMs: number): Promise<PipelineReport> {
    this.#writer.flush();
    await this.deliverer?.drain({ deadlineMs, maxConsecutiveFailures: ONE_SHOT_MAX_FAILURES });
    return this.report();
  }

  /**
   * Ends what is still running (as interrupted), stores everything, delivers within the deadline,
   * and closes the store. Whatever was not delivered stays pending on disk for the next run.
   */
  async shutdown(deadlineMs: number): Promise<PipelineReport> {
    if (this.#closed) return this.report();
    await this.assembler.shutdown();
    const report = await this.flush(deadlineMs);
    this.deliverer?.stop();
    this.#closed = true;
    this.store.close();
    return report;
  }

  report(): PipelineReport {
    const stats = this.deliverer?.stats;
    // Once closed, the store cannot be asked: the count from the last report stands.
    if (!this.#closed && this.#destinationKey) this.#lastPending = this.counts().pending;
    return {
      storeDir: this.store.dir,
      ...(this.#destinationKey && { destination: this.destination?.description ?? this.#destinationKey }),
      stored: this.#stored,
      refused: this.#refused,
      ...(this.#refusedReason && { refusedReason: this.#refusedReason }),
      delivered: stats?.delivered ?? 0,
      dead: stats?.dead ?? 0,
      pending: this.#lastPending,
      ...(stats?.lastFailure && { lastFailure: stats.lastFailure }),
      deadLetters: [...this.#deadLetters],
    };
  }

}

function formatMb(bytes: number): string {
  return `${Math.round(bytes / 1024 ** 2)} MB`;
}
