import { Worker } from 'node:worker_threads';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { AuthSettings } from '../config/types.ts';
import { encodeLocalTrace, encodeTrace } from '../destination/encode-trace.ts';
import { describeDestination, type ResolvedDestination } from '../destination/resolved-destination.ts';
import { describeTarget, targetKey, type Target } from '../destination/target.ts';
import { rememberedSecrets } from '../config/configured-secrets.ts';
import { withoutContent } from '../tracing/content-filter.ts';
import { maskSpanText } from '../spans/mask-span-text.ts';
import { toReadableSpans } from '../spans/readable-spans.ts';
import { withAttributes } from '../spans/span-with-changes.ts';
import { TraceAssembler } from './assemble/trace-assembler.ts';
import type { FlushOptions, OutboxEvent, OutboxStats } from './outbox.ts';
import type { LocalSpan } from '../spans/local-span.ts';
import type { DeliveryInfo } from './store/stored-trace.ts';
import type { StateCounts } from './store/trace-reads.ts';
import { TraceStore, type StoreOptions } from './store/trace-store.ts';
import type { AssemblyHold, TraceToStore } from './store/trace-writes.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker/worker-protocol.ts';

/** Traces are handed to the worker in groups this often, or at this many: one message, not one per trace. */
const HAND_OVER_MS = 10;
const HAND_OVER_MAX = 500;
/**
 * Traces handed over and not yet written: past the high mark the producing thread waits for the disk
 * (memory stays bounded by the disk's speed, not by dropping); at serve's rates it is never reached.
 */
const BACKLOG_HIGH = 2_000;
const BACKLOG_LOW = 1_000;
/**
 * The longest the producing thread waits for the disk at one hand-over: a bounded moment, never the
 * event loop held for seconds. Past it the traces are handed over anyway (the worker bounds its queue,
 * and counts what it must refuse); servers shed new work before it comes to that (see `accepting`).
 */
const BACKLOG_MAX_WAIT_MS = 100;
/** Traces handed over and not yet written past which a server turns new work away (503) instead of answering and queueing it. */
const SHED_BACKLOG = 1_000;
/** Beyond its deadline, a flush waits this much longer for the worker to answer before giving up on it. */
const WORKER_GRACE_MS = 5_000;

// The worker runs from the same tree as this module: TypeScript sources under test, dist/ once built.
const WORKER_URL = new URL(`./worker/pipeline-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

export interface PipelineOptions {
  storeDir: string;
  storeOptions?: Omit<StoreOptions, 'now'>;
  /**
   * Where this process's traces are meant to go: they wait for it in the store whether or not it can
   * be reached now. Absent in local-only mode.
   */
  target?: Target;
  /** The target as resolved, when it was at start; later ones come with addDestination. */
  destination?: ResolvedDestination;
  /** The credentials the worker signs its requests with. */
  auth?: AuthSettings;
  /** The command producing the traces (`serve`, `ask`, `doctor`, …), kept with each. */
  origin: string;
  captureContent?: boolean;
  /** Applied to every text of every span before it is kept (configured secrets a provider's error may echo). */
  maskText?: (text: string) => string;
  /** Long-running processes deliver in the background; one-shot commands at flush. */
  deliverInBackground?: boolean;
  onEvent?: (event: PipelineEvent) => void;
}

export type PipelineEvent = OutboxEvent;

/** Spans of one trace that arrived from elsewhere (the relay), whole or in part, to be stored. */
export interface SpansToStore {
  spans: LocalSpan[];
  origin: string;
  destination?: string;
  /** Held back from delivery until whole (see TraceToStore). */
  hold?: AssemblyHold;
}

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
  lastFailure?: OutboxStats['lastFailure'];
  deadLetters: OutboxStats['deadLetters'];
  /** Set while the store cannot be written. */
  storeTrouble?: OutboxStats['storeTrouble'];
}

/**
 * The one way traces leave a process: span → trace assembly (here, on the thread that makes the
 * spans) → the store, which is also the outbox → a deliverer that batches → the destination (those
 * three in a worker thread, so a request never waits for the disk or for MLflow). Local-only mode is
 * the same pipeline without a destination.
 */
export class TracePipeline {
  /** This thread's read connection: delivery states and counts, while the worker writes. */
  readonly store: TraceStore;
  readonly assembler: TraceAssembler;
  readonly #worker: Worker;
  readonly #destinationKey: string | undefined;
  #description: string | undefined;
  readonly #onEvent: (event: PipelineEvent) => void;
  #queue: TraceToStore[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stats: OutboxStats = { stored: 0, refused: 0, delivered: 0, dead: 0, deadLetters: [] };
  #nextId = 0;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  readonly #storing = new Map<number, { resolve: (refusedIds: string[]) => void; reject: (error: Error) => void }>();
  #failure: string | undefined;
  #closed = false;
  #lastPending = 0;
  readonly #backlog = new Int32Array(new SharedArrayBuffer(4));
  /** Traces that could not be handed over because the worker had failed. */
  #lost = 0;
  readonly #mask: (span: ReadableSpan) => ReadableSpan;
  /** Relayed spans, encoded as they came unless text must be masked (which works on SDK spans). */
  readonly #encodeRelayed: (spans: LocalSpan[]) => ReturnType<typeof encodeTrace>;

  constructor(options: PipelineOptions) {
    this.#onEvent = options.onEvent ?? (() => {});
    // Opened here first: a store that cannot be opened is an error the command reports at once.
    this.store = TraceStore.open(options.storeDir, options.storeOptions);
    const key = options.target && targetKey(options.target);
    this.#destinationKey = key;
    this.#description = options.destination ? describeDestination(options.destination) : options.target && describeTarget(options.target);
    const init: WorkerInit = {
      storeDir: options.storeDir,
      storeOptions: options.storeOptions ?? {},
      auth: options.auth ?? { kind: 'none' },
      secrets: rememberedSecrets(),
      destinations: options.destination ? [options.destination] : [],
      deliverInBackground: options.deliverInBackground === true,
      backlog: this.#backlog.buffer as SharedArrayBuffer,
    };
    this.#worker = new Worker(WORKER_URL, { workerData: init });
    // Only outstanding flushes keep the process alive for the worker (see #request).
    this.#worker.unref();
    this.#worker.on('message', (message: FromWorker) => this.#receive(message));
    this.#worker.on('error', (error: Error) => this.#fail(`the trace pipeline's worker failed: ${error.message}`));
    this.#worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(`the trace pipeline's worker stopped (exit code ${code})`);
    });

    const origin = options.origin;
    const { maskText } = options;
    this.#mask = maskText ? (span) => maskSpanText(span, maskText) : (span) => span;
    this.#encodeRelayed = maskText ? (spans) => encodeTrace(toReadableSpans(spans).map(this.#mask)) : encodeLocalTrace;
    const keptContent =
      options.captureContent === false
        ? (span: ReadableSpan) => withAttributes(span, withoutContent(span.attributes))
        : (span: ReadableSpan) => span;
    this.assembler = new TraceAssembler({
      // Encoded here, once: what crosses to the worker is the bytes every destination takes and the summary.
      onTrace: (spans: ReadableSpan[]) => this.#enqueue({ ...encodeTrace(spans), origin, ...(key && { destination: key }) }),
      ...((maskText || options.captureContent === false) && { prepare: (span: ReadableSpan) => this.#mask(keptContent(span)) }),
    });
  }

  /** Where one trace stands, by its OTel (hex) trace id; call after a flush to see this process's latest. */
  deliveryOf(hexTraceId: string): DeliveryInfo | undefined {
    return this.store.reads.deliveryOf(hexTraceId.toLowerCase());
  }

  /** What this process's outbox did so far, as the worker last said: no store query. */
  get stats(): OutboxStats {
    return this.#stats;
  }

  /** The destination's identity; undefined in local-only mode. */
  get destinationKey(): string | undefined {
    return this.#destinationKey;
  }

  /** Traces this process could not store (store full or failing, worker gone), as far as known now. */
  get notStored(): number {
    return this.#stats.refused + this.#lost;
  }

  /** Traces handed to the worker and not yet written: how far the disk is behind. */
  get behind(): number {
    return Atomics.load(this.#backlog, 0);
  }

  /**
   * Whether new work can count on its trace being kept: the store writes and keeps up. A server that
   * is told no turns requests away (503, Retry-After) rather than answering and dropping their traces.
   */
  get accepting(): boolean {
    return !this.#failure && !this.#stats.storeTrouble && this.behind < SHED_BACKLOG;
  }

  /** Why new work cannot be taken now; undefined while it can. */
  get notAcceptingBecause(): string | undefined {
    if (this.#failure) return this.#failure;
    if (this.#stats.storeTrouble) return this.#stats.storeTrouble.reason;
    const behind = this.behind;
    return behind >= SHED_BACKLOG ? `the trace store is ${behind} traces behind` : undefined;
  }

  /**
   * Writes traces that arrived whole or in part from elsewhere (the relay), resolving once they are
   * committed, with the ids of any the store refused; rejects when the worker has failed.
   */
  storeDurably(traces: SpansToStore[]): Promise<string[]> {
    if (this.#failure) return Promise.reject(new Error(this.#failure));
    const id = ++this.#nextId;
    Atomics.add(this.#backlog, 0, traces.length);
    const kept = traces.map(({ spans, ...trace }): TraceToStore => ({ ...trace, ...this.#encodeRelayed(spans) }));
    return new Promise<string[]>((resolve, reject) => {
      this.#storing.set(id, { resolve, reject });
      this.#post({ type: 'store', id, traces: kept });
    });
  }

  /** A target resolved (at start, later, or another one the relay routes to): the worker delivers there from now on. */
  addDestination(destination: ResolvedDestination): void {
    if (destination.key === this.#destinationKey) this.#description = describeDestination(destination);
    if (this.#failure) return;
    this.#post({ type: 'destination', destination });
  }

  counts(): StateCounts {
    return this.#destinationKey ? this.store.reads.counts(this.#destinationKey) : this.store.reads.counts();
  }

  /**
   * Stores every finished trace now, then delivers what is pending within the deadline, or until
   * `interrupt` aborts: a person asked to stop waiting, and what is left stays pending.
   */
  async flush(deadlineMs: number, { interrupt, ...options }: FlushOptions & { interrupt?: AbortSignal } = {}): Promise<PipelineReport> {
    this.#handOver();
    await this.#request({ type: 'flush', deadlineMs, ...(options.releaseHolds && { releaseHolds: true }) }, interrupt).catch(
      () => undefined,
    );
    return this.report();
  }

  /**
   * Ends what is still running (as interrupted), stores everything, delivers within the deadline or
   * until `interrupt` aborts, and stops the worker. Whatever was not delivered stays pending on disk
   * for the next run.
   */
  async shutdown(deadlineMs: number, interrupt?: AbortSignal): Promise<PipelineReport> {
    if (this.#closed) return this.report();
    await this.assembler.shutdown();
    this.#handOver();
    await this.#request({ type: 'close', deadlineMs }, interrupt).catch(() => undefined);
    const report = this.report();
    this.#closed = true;
    // Requests the deliverer still has in flight are abandoned: their traces stay pending on disk.
    await this.#worker.terminate();
    this.store.close();
    return report;
  }

  report(): PipelineReport {
    const stats = this.#stats;
    // Once closed, the store cannot be asked: the count from the last report stands.
    if (!this.#closed && this.#destinationKey) this.#lastPending = this.counts().pending;
    const refusedReason = stats.refusedReason ?? this.#failure;
    return {
      storeDir: this.store.dir,
      ...(this.#description && { destination: this.#description }),
      stored: stats.stored,
      refused: stats.refused + this.#lost,
      ...(refusedReason && { refusedReason }),
      delivered: stats.delivered,
      dead: stats.dead,
      pending: this.#lastPending,
      ...(stats.lastFailure && { lastFailure: stats.lastFailure }),
      deadLetters: stats.deadLetters,
      ...(stats.storeTrouble && { storeTrouble: stats.storeTrouble }),
    };
  }

  #enqueue(trace: TraceToStore): void {
    this.#queue.push(trace);
    if (this.#queue.length >= HAND_OVER_MAX) this.#handOver();
    else this.#timer ??= setTimeout(() => this.#handOver(), HAND_OVER_MS);
  }

  #handOver(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    if (this.#failure) {
      // Nowhere to put them: counted and reported as not stored, not held in memory.
      this.#lost += this.#queue.length;
      this.#queue = [];
      return;
    }
    Atomics.add(this.#backlog, 0, this.#queue.length);
    this.#post({ type: 'traces', traces: this.#queue });
    this.#queue = [];
    this.#waitForDisk();
  }

  /** Waits a bounded moment while the worker is far behind (the disk slower than the traces coming). */
  #waitForDisk(): void {
    if (Atomics.load(this.#backlog, 0) <= BACKLOG_HIGH) return;
    const giveUpAt = Date.now() + BACKLOG_MAX_WAIT_MS;
    for (let behind = Atomics.load(this.#backlog, 0); behind > BACKLOG_LOW; behind = Atomics.load(this.#backlog, 0)) {
      const left = giveUpAt - Date.now();
      if (left <= 0) return;
      Atomics.wait(this.#backlog, 0, behind, left);
    }
  }

  /**
   * A flush or close, answered by the worker; the process stays alive for it until the answer or the
   * deadline. `interrupt` aborting has the worker stop delivering, and answer once the requests it
   * has in flight were answered.
   */
  #request(message: { type: 'flush' | 'close'; deadlineMs: number }, interrupt: AbortSignal | undefined): Promise<void> {
    if (this.#failure) return Promise.reject(new Error(this.#failure));
    const id = ++this.#nextId;
    this.#worker.ref();
    const onInterrupt = () => this.#post({ type: 'interrupt' });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(() => reject(new Error('the trace pipeline did not answer in time'))),
        message.deadlineMs + WORKER_GRACE_MS,
      );
      const settle = (done: () => void) => {
        clearTimeout(timer);
        interrupt?.removeEventListener('abort', onInterrupt);
        this.#waiting.delete(id);
        if (this.#waiting.size === 0) this.#worker.unref();
        done();
      };
      this.#waiting.set(id, { resolve: () => settle(resolve), reject: (error) => settle(() => reject(error)) });
      this.#post({ ...message, id });
      // After the request's message: the worker stops what it has begun, not what is to come.
      if (interrupt?.aborted) onInterrupt();
      else interrupt?.addEventListener('abort', onInterrupt, { once: true });
    });
  }

  #post(message: ToWorker): void {
    this.#worker.postMessage(message, message.type === 'traces' || message.type === 'store' ? ownBuffers(message.traces) : []);
  }

  #receive(message: FromWorker): void {
    switch (message.type) {
      case 'event':
        this.#stats = message.stats;
        this.#onEvent(message.event);
        return;
      case 'done':
        this.#stats = message.stats;
        this.#waiting.get(message.id)?.resolve();
        return;
      case 'stored':
        this.#storing.get(message.id)?.resolve(message.refusedIds);
        this.#storing.delete(message.id);
        return;
      case 'failed':
        if (message.id === undefined) this.#fail(message.message);
        else this.#waiting.get(message.id)?.reject(new Error(message.message));
        return;
    }
  }

  /** A worker that cannot go on: what it has not stored is counted as refused, with the reason. */
  #fail(reason: string): void {
    if (this.#failure) return;
    this.#failure = reason;
    // What the worker had been handed and had not written went with it: counted, never silent.
    this.#lost += Math.max(0, Atomics.exchange(this.#backlog, 0, 0));
    for (const waiter of [...this.#waiting.values(), ...this.#storing.values()]) waiter.reject(new Error(reason));
    this.#storing.clear();
    this.#onEvent({ kind: 'store-refused', traces: this.#queue.length, reason });
    this.#handOver();
  }
}

/**
 * The traces' bytes that have a buffer of their own, handed to the worker instead of copied (a copy
 * cost more than encoding a small trace). Bytes cut from a shared slab are copied: the slab's other
 * traces are still in use here.
 */
function ownBuffers(traces: readonly TraceToStore[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const { otlp } of traces) {
    const { buffer } = otlp;
    if (buffer instanceof ArrayBuffer && otlp.byteOffset === 0 && otlp.byteLength === buffer.byteLength) buffers.push(buffer);
  }
  return buffers;
}
