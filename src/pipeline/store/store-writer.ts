import type { TraceStore, TraceToStore, WriteResult } from './trace-store.ts';

export interface StoreWriterOptions {
  /** How long a finished trace may wait in memory: the window a SIGKILL can lose. */
  flushIntervalMs?: number;
  /** A group this large is written at once instead of waiting for the timer. */
  maxGroup?: number;
  /** Past this many waiting traces (the disk failing), new ones are refused and counted, not held. */
  maxQueued?: number;
  /** How soon a write that failed (a full disk, an I/O error) is tried again. */
  retryMs?: number;
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
  readonly #store: TraceStore;
  readonly #intervalMs: number;
  readonly #maxGroup: number;
  readonly #maxQueued: number;
  readonly #retryMs: number;
  readonly #onWrite: NonNullable<StoreWriterOptions['onWrite']>;
  readonly #onTrouble: NonNullable<StoreWriterOptions['onTrouble']>;
  #queue: TraceToStore[] = [];
  /** Callers waiting for their traces to be durable (the relay answers its clients only then). */
  #acks: { ids: string[]; done: (refusedIds: string[]) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(store: TraceStore, options: StoreWriterOptions = {}) {
    this.#store = store;
    this.#intervalMs = options.flushIntervalMs ?? 25;
    this.#maxGroup = options.maxGroup ?? 1000;
    this.#maxQueued = options.maxQueued ?? 50_000;
    this.#retryMs = options.retryMs ?? 1000;
    this.#onWrite = options.onWrite ?? (() => {});
    this.#onTrouble = options.onTrouble ?? (() => {});
  }

  /** Traces waiting to be written: at shutdown, those a failing disk never took. */
  get queued(): number {
    return this.#queue.length;
  }

  enqueue(trace: TraceToStore): void {
    if (this.#queue.length >= this.#maxQueued) {
      this.#onWrite({ written: 0, refused: 1, refusedIds: [trace.spans[0]!.traceId], evicted: 0, nearCap: false });
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
    this.#acks.push({ ids: traces.map((trace) => trace.spans[0]!.traceId), done });
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
    let result: WriteResult;
    try {
      result = this.#store.write(group);
    } catch (error) {
      this.#queue = group.concat(this.#queue);
      this.#acks = acks.concat(this.#acks);
      this.#failing = true;
      this.#onTrouble(error);
      this.#timer = setTimeout(() => this.flush(), this.#retryMs);
      return;
    }
    if (this.#failing) {
      this.#failing = false;
      this.#onTrouble(undefined);
    }
    this.#onWrite(result);
    const refused = new Set(result.refusedIds);
    for (const ack of acks) ack.done(refused.size === 0 ? [] : ack.ids.filter((id) => refused.has(id)));
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
