import type { TraceStore, TraceToStore, WriteResult } from './trace-store.ts';

export interface StoreWriterOptions {
  /** How long a finished trace may wait in memory: the window a SIGKILL can lose. */
  flushIntervalMs?: number;
  /** A group this large is written at once instead of waiting for the timer. */
  maxGroup?: number;
  /** Past this many waiting traces (the disk failing), new ones are refused and counted, not held. */
  maxQueued?: number;
  /** After every write (or failed write), for counters and warnings. */
  onWrite?: (result: WriteResult, error?: unknown) => void;
}

/**
 * Writes finished traces to the store in groups, off the request path: ending a span only queues its
 * trace, and one transaction per group keeps the cost per trace small at thousands per second.
 */
export class StoreWriter {
  readonly #store: TraceStore;
  readonly #intervalMs: number;
  readonly #maxGroup: number;
  readonly #maxQueued: number;
  readonly #onWrite: NonNullable<StoreWriterOptions['onWrite']>;
  #queue: TraceToStore[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(store: TraceStore, options: StoreWriterOptions = {}) {
    this.#store = store;
    this.#intervalMs = options.flushIntervalMs ?? 25;
    this.#maxGroup = options.maxGroup ?? 1000;
    this.#maxQueued = options.maxQueued ?? 50_000;
    this.#onWrite = options.onWrite ?? (() => {});
  }

  get queued(): number {
    return this.#queue.length;
  }

  enqueue(trace: TraceToStore): void {
    if (this.#queue.length >= this.#maxQueued) {
      this.#onWrite({ written: 0, refused: 1, evicted: 0, nearCap: false }, new Error(`${this.#maxQueued} traces are waiting for the store`));
      return;
    }
    this.#queue.push(trace);
    if (this.#queue.length >= this.#maxGroup) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#intervalMs);
  }

  /** Writes everything queued now; on failure the traces stay queued for the next try. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const group = this.#queue;
    this.#queue = [];
    try {
      this.#onWrite(this.#store.write(group));
    } catch (error) {
      this.#queue = group.concat(this.#queue);
      this.#onWrite({ written: 0, refused: 0, evicted: 0, nearCap: false }, error);
      this.#timer = setTimeout(() => this.flush(), Math.max(this.#intervalMs, 1000));
    }
  }
}
