import { Deliverer, type DeliveryEvent, type DeliveryStats } from './deliver/deliverer.ts';
import type { Destination } from './destinations/destination.ts';
import { StoreWriter } from './store/store-writer.ts';
import type { TraceStore, TraceToStore } from './store/trace-store.ts';

/** Failed tries in a row after which a one-shot command stops waiting and leaves the rest pending. */
export const ONE_SHOT_MAX_FAILURES = 3;
/** Dead letters remembered for the closing report; the store keeps all of them. */
const REPORTED_DEAD_LETTERS = 20;

export type OutboxEvent =
  | DeliveryEvent
  | { kind: 'store-refused'; traces: number; reason: string }
  | { kind: 'store-near-cap'; bytes: number; maxBytes: number };

/** What this process's outbox did: stored, refused, delivered, refused by the destination. */
export interface OutboxStats {
  stored: number;
  refused: number;
  refusedReason?: string;
  delivered: number;
  dead: number;
  lastFailure?: DeliveryStats['lastFailure'];
  deadLetters: { traceId: string; status?: number; answer: string }[];
}

/**
 * The store as the outbox: finished traces are written in groups, and, with a destination, drained
 * from there by the deliverer. It runs in the pipeline's worker thread, so neither the disk nor the
 * destination ever holds up the thread that serves requests.
 */
export class Outbox {
  readonly #store: TraceStore;
  readonly #writer: StoreWriter;
  readonly #deliverer: Deliverer | undefined;
  readonly #stats: OutboxStats = { stored: 0, refused: 0, delivered: 0, dead: 0, deadLetters: [] };
  #warnedNearCap = false;

  constructor(
    store: TraceStore,
    destination: Destination | undefined,
    onEvent: (event: OutboxEvent) => void,
    /** Told how many traces each write took off the queue (written, merged or refused). */
    onWritten: (traces: number) => void = () => {},
  ) {
    this.#store = store;
    this.#deliverer =
      destination &&
      new Deliverer({
        store,
        destination,
        onEvent: (event) => {
          if (event.kind === 'dead' && this.#stats.deadLetters.length < REPORTED_DEAD_LETTERS) {
            const { kind: _kind, ...letter } = event;
            this.#stats.deadLetters.push(letter);
          }
          onEvent(event);
        },
      });
    this.#writer = new StoreWriter(store, {
      onWrite: (result, error) => {
        onWritten(result.written + result.refused);
        this.#stats.stored += result.written;
        if (result.refused > 0) {
          this.#stats.refused += result.refused;
          this.#stats.refusedReason = error
            ? `the store ${store.dir} failed: ${error instanceof Error ? error.message : String(error)}`
            : `the store ${store.dir} is full (${Math.round(store.maxBytes / 1024 ** 2)} MB cap) and holds only undelivered traces`;
          onEvent({ kind: 'store-refused', traces: result.refused, reason: this.#stats.refusedReason });
        }
        if (result.nearCap && !this.#warnedNearCap) {
          this.#warnedNearCap = true;
          onEvent({ kind: 'store-near-cap', bytes: store.bytes(), maxBytes: store.maxBytes });
        }
        if (result.written > 0) this.#deliverer?.wake();
      },
    });
  }

  get stats(): OutboxStats {
    const delivery = this.#deliverer?.stats;
    return {
      ...this.#stats,
      deadLetters: [...this.#stats.deadLetters],
      delivered: delivery?.delivered ?? 0,
      dead: delivery?.dead ?? 0,
      ...(delivery?.lastFailure && { lastFailure: delivery.lastFailure }),
    };
  }

  /** Long-running processes deliver while they run; one-shot commands only when they flush. */
  startDelivering(): void {
    this.#deliverer?.start();
  }

  add(traces: readonly TraceToStore[]): void {
    for (const trace of traces) this.#writer.enqueue(trace);
  }

  /** Writes what is queued, then delivers what is pending until done, the deadline, or a dead destination. */
  async flush(deadlineMs: number): Promise<void> {
    this.#writer.flush();
    await this.#deliverer?.drain({ deadlineMs, maxConsecutiveFailures: ONE_SHOT_MAX_FAILURES });
  }

  /** Flushes, then stops delivering and closes the store; requests still in flight are abandoned (their traces stay pending). */
  async close(deadlineMs: number): Promise<void> {
    await this.flush(deadlineMs);
    this.#deliverer?.stop();
    this.#store.close();
  }
}
