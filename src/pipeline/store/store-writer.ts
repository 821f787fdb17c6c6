import type { LeaseOffer } from './trace-outbox.ts';
import { emptyWriteResult, type TraceToStore, type TraceWrites, type WriteResult } from './trace-writes.ts';

export interface StoreWriterOptions {
  /** How long a finished trace may wait in memory: the window a SIGKILL can lose. */
  flushIntervalMs?: number;
  /** A group this large is written at once instead of waiting for the timer. */
  maxGroup?: number;
  /** Past this many waiting traces (the disk failing), new ones are refused and counted, not held. */
  maxQueued?: number;
  /** How soon a write that failed (a full disk, an I/O error) is tried again. */
  retryMs?: number;
  /** Deliverers ready to send new traces now, by destination: what they offer to take is leased to them as it is written. */
  leaseOffers?: () => ReadonlyMap<string, LeaseOffer>;
  /** After every write that did something, for counters and warnings. */
  onWrite?: (result: WriteResult) => void;
  /** A write failed (the traces stay queued and are tried again), or writing works again (`error` undefined). */
  onTrouble?: (error: unknown) => void;
}

/**
 * Writes finished traces to the store in groups, off the request path: ending a span only queues its
 * trace, and one transaction per group keeps the cost per trace small at thousands per second. When
 * the disk fails, what is queued waits and is tried again; what cannot even wait is counted as refused.
 */
export class StoreWriter {
  readonly #store: TraceWrites;
  readonly #intervalMs: number;
  readonly #maxGroup: number;
  readonly #maxQueued: number;
  readonly #retryMs: number;
  readonly #leaseOffers: StoreWriterOptions['leaseOffers'];
  readonly #onWrite: NonNullable<StoreWriterOptions['onWrite']>;
  readonly #onTrouble: NonNullable<StoreWriterOptions['onTrouble']>;
  #queue: TraceToStore[] = [];
  /** Callers waiting for their traces to be durable (the relay answers its clients only then). */
  #acks: { ids: string[]; done: (refusedIds: string[]) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(store: TraceWrites, options: StoreWriterOptions = {}) {
    this.#store = store;
    this.#intervalMs = options.flushIntervalMs ?? 25;
    this.#maxGroup = options.maxGroup ?? 1000;
    this.#maxQueued = options.maxQueued ?? 50_000;
    this.#retryMs = options.retryMs ?? 1000;
    this.#leaseOffers = options.leaseOffers;
    this.#onWrite = options.onWrite ?? (() => {});
    this.#onTrouble = options.onTrouble ?? (() => {});
  }

  enqueue(trace: TraceToStore): void {
    if (this.#queue.length >= this.#maxQueued) {
      this.#onWrite({ ...emptyWriteResult(), refused: 1, refusedIds: [trace.hex] });
      return;
    }
    this.#queue.push(trace);
    this.#scheduleFlush();
  }

  /**
   * Queues traces like `enqueue`, and calls `done` once the group holding them is committed, with the
   * ids of those the store refused (full). A write that fails is retried, and `done` waits for it.
   */
  enqueueDurably(traces: readonly TraceToStore[], done: (refusedIds: string[]) => void): void {
    this.#acks.push({ ids: traces.map((trace) => trace.hex), done });
    for (const trace of traces) this.#queue.push(trace);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#failing) return;
    if (this.#queue.length >= this.#maxGroup) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#intervalMs);
  }

  /** Writes everything queued now; on failure the traces stay queued for the next try. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const group = this.#queue;
    const acks = this.#acks;
    this.#queue = [];
    this.#acks = [];
    const { written, left, error } = this.#writeWhatFits(group, this.#leaseOffers?.());
    if (written.refusedIds.length > 0 || written.written > 0) this.#onWrite(written);
    if (error === undefined) {
      if (this.#failing) {
        this.#failing = false;
        this.#onTrouble(undefined);
      }
    } else {
      this.#failing = true;
      this.#onTrouble(error);
      this.#timer = setTimeout(() => this.flush(), this.#retryMs);
    }
    // A caller waiting for its traces hears back once all of them are written (or refused).
    const waiting = new Set(left.map((trace) => trace.hex));
    const refused = new Set(written.refusedIds);
    const [done, pending] = partition(acks, (ack) => ack.ids.every((id) => !waiting.has(id)));
    this.#queue = left.concat(this.#queue);
    this.#acks = pending.concat(this.#acks);
    for (const ack of done) ack.done(refused.size === 0 ? [] : ack.ids.filter((id) => refused.has(id)));
  }

  /**
   * Writes the group in one transaction; when that fails (a disk nearly full), writes halves, so what
   * still fits is kept. Returns what was written and what is left to try again, with the failure.
   */
  #writeWhatFits(
    group: TraceToStore[],
    offers: ReadonlyMap<string, LeaseOffer> | undefined,
  ): { written: WriteResult; left: TraceToStore[]; error?: unknown } {
    try {
      return { written: this.#store.write(group, offers), left: [] };
    } catch (error) {
      if (group.length === 1) return { written: emptyWriteResult(), left: group, error };
      const half = Math.ceil(group.length / 2);
      // Halves are written without leases: while the disk fails, the deliverer claims what got in.
      const first = this.#writeWhatFits(group.slice(0, half), undefined);
      // The first half did not fit: the second will not either; no need to ask the disk again.
      const second =
        first.error === undefined
          ? this.#writeWhatFits(group.slice(half), undefined)
          : { written: emptyWriteResult(), left: group.slice(half), error: first.error };
      return { written: merge(first.written, second.written), left: [...first.left, ...second.left], error: first.error ?? second.error };
    }
  }

  /** Gives up on what could not be written: the caller counts it as refused, with the disk's reason. */
  abandon(): number {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const left = this.#queue.length;
    this.#queue = [];
    for (const ack of this.#acks.splice(0)) ack.done(ack.ids);
    return left;
  }
}

function merge(a: WriteResult, b: WriteResult): WriteResult {
  return {
    written: a.written + b.written,
    added: a.added + b.added,
    refused: a.refused + b.refused,
    refusedIds: [...a.refusedIds, ...b.refusedIds],
    evicted: a.evicted + b.evicted,
    nearCap: a.nearCap || b.nearCap,
    leased: new Map(),
    leasedCount: 0,
  };
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
