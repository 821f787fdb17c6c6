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
 * The store as the outbox: finished traces are written in groups, and, for each destination, drained
 * from there by its deliverer (one destination for the app commands; the relay adds one per
 * experiment it routes to). It runs in the pipeline's worker thread, so neither the disk nor the
 * destinations ever hold up the thread that serves requests.
 */
export class Outbox {
  readonly #store: TraceStore;
  readonly #writer: StoreWriter;
  readonly #deliverers = new Map<string, Deliverer>();
  readonly #onEvent: (event: OutboxEvent) => void;
  readonly #stats: OutboxStats = { stored: 0, refused: 0, delivered: 0, dead: 0, deadLetters: [] };
  #delivering = false;
  #warnedNearCap = false;

  constructor(
    store: TraceStore,
    destination: Destination | undefined,
    onEvent: (event: OutboxEvent) => void,
    /** Told how many traces each write took off the queue (written, merged or refused). */
    onWritten: (traces: number) => void = () => {},
  ) {
    this.#store = store;
    this.#onEvent = onEvent;
    if (destination) this.addDestination(destination);
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
        if (result.written > 0) for (const deliverer of this.#deliverers.values()) deliverer.wake();
      },
    });
  }

  /** A destination traces are (or will be) routed to; one already known is kept as it is. */
  addDestination(destination: Destination): void {
    if (this.#deliverers.has(destination.key)) return;
    const deliverer = new Deliverer({
      store: this.#store,
      destination,
      onEvent: (event) => {
        if (event.kind === 'dead' && this.#stats.deadLetters.length < REPORTED_DEAD_LETTERS) {
          const { kind: _kind, ...letter } = event;
          this.#stats.deadLetters.push(letter);
        }
        this.#onEvent(event);
      },
    });
    this.#deliverers.set(destination.key, deliverer);
    if (this.#delivering) deliverer.start();
  }

  get stats(): OutboxStats {
    let delivered = 0;
    let dead = 0;
    let lastFailure: OutboxStats['lastFailure'];
    for (const { stats } of this.#deliverers.values()) {
      delivered += stats.delivered;
      dead += stats.dead;
      if (stats.lastFailure && (!lastFailure || stats.lastFailure.at > lastFailure.at)) lastFailure = stats.lastFailure;
    }
    return { ...this.#stats, deadLetters: [...this.#stats.deadLetters], delivered, dead, ...(lastFailure && { lastFailure }) };
  }

  /** Long-running processes deliver while they run; one-shot commands only when they flush. */
  startDelivering(): void {
    this.#delivering = true;
    for (const deliverer of this.#deliverers.values()) deliverer.start();
  }

  add(traces: readonly TraceToStore[]): void {
    for (const trace of traces) this.#writer.enqueue(trace);
  }

  /** Like `add`; `done` is called once they are committed, with the ids of any the store refused. */
  addDurably(traces: readonly TraceToStore[], done: (refusedIds: string[]) => void): void {
    this.#writer.enqueueDurably(traces, done);
  }

  /** Writes what is queued, then delivers what is pending until done, the deadline, or a dead destination. */
  async flush(deadlineMs: number): Promise<void> {
    this.#writer.flush();
    await Promise.all(
      [...this.#deliverers.values()].map((deliverer) => deliverer.drain({ deadlineMs, maxConsecutiveFailures: ONE_SHOT_MAX_FAILURES })),
    );
  }

  /** Flushes, then stops delivering and closes the store; requests still in flight are abandoned (their traces stay pending). */
  async close(deadlineMs: number): Promise<void> {
    await this.flush(deadlineMs);
    for (const deliverer of this.#deliverers.values()) deliverer.stop();
    this.#store.close();
  }
}
