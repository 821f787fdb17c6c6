import type { AuthSettings } from '../config/types.ts';
import { connectTo } from '../mlflow/connect.ts';
import type { ResolvedDestination, ResolvedExperiment } from '../destination/resolved-destination.ts';
import { scoreSender, suiteRunSender } from '../destination/senders/evaluation-senders.ts';
import { traceSenderFor } from '../destination/senders/sender-for.ts';
import { describeTarget, targetKey, withoutRun } from '../destination/target.ts';
import type { Sender } from '../destination/sender.ts';
import { Deliverer, type DeliveryEvent, type DeliveryStats, type DrainOptions, type OutboxQueue } from './deliver/deliverer.ts';
import type { Clock } from '../util/clock.ts';
import type { EvaluationStore } from './store/evaluation-store.ts';
import { StoreWriter } from './store/store-writer.ts';
import type { LeaseOffer } from './store/trace-outbox.ts';
import type { TraceStore } from './store/trace-store.ts';
import type { TraceToStore } from './store/trace-writes.ts';
import { errorMessage } from '../errors.ts';

/** Failed tries in a row after which a one-shot command stops waiting and leaves the rest pending. */
const ONE_SHOT_MAX_FAILURES = 3;
/** How long an interrupted flush waits for requests already sent to be answered: short enough to feel immediate. */
const INTERRUPT_GRACE_MS = 2_000;
/** Dead letters remembered for the closing report; the store keeps all of them. */
const REPORTED_DEAD_LETTERS = 20;

export type OutboxEvent =
  | DeliveryEvent
  | { kind: 'store-refused'; traces: number; reason: string }
  | { kind: 'store-near-cap'; bytes: number; maxBytes: number }
  /** Writing failed (a full disk, an I/O error): what arrives waits in memory, within a bound, and is tried again. */
  | { kind: 'store-failing'; reason: string }
  | { kind: 'store-recovered' };

/** What this process's outbox did with traces: stored, refused, delivered, refused by the destination. */
export interface OutboxStats {
  /** Traces new to the store: one that arrived in parts counts once. */
  stored: number;
  refused: number;
  refusedReason?: string;
  delivered: number;
  dead: number;
  lastFailure?: DeliveryStats['lastFailure'];
  deadLetters: { traceId: string; status?: number; answer: string }[];
  /** Set while the store cannot be written. */
  storeTrouble?: { since: string; reason: string };
}

/** The order things leave in: a score or a run link needs its trace in MLflow first. */
const STAGES = ['traces', 'suite runs', 'scores'] as const;

export interface OutboxOptions {
  traces: TraceStore;
  /** Suite runs and scores, delivered to the experiments traces go to. */
  evaluations?: EvaluationStore;
  /** The credentials senders sign their requests with. */
  auth: AuthSettings;
  clock?: Clock;
  onEvent?: (event: OutboxEvent) => void;
  /** Told how many traces each write took off the queue (written, merged or refused). */
  onWritten?: (traces: number) => void;
}

/**
 * The store as the outbox: finished traces are written in groups, and everything waiting there for a
 * destination (traces, suite runs, scores) is drained by one deliverer per kind and destination. In
 * long-running processes it runs in the pipeline's worker thread, so neither the disk nor the
 * destinations ever hold up the thread that serves requests; `traces push` and `suite` drive one
 * directly.
 */
export interface FlushOptions {
  /** Traces held for late spans are sent now: nothing more is coming (a relay closing). */
  releaseHolds?: boolean;
}

export class Outbox {
  readonly #traces: TraceStore;
  readonly #evaluations: EvaluationStore | undefined;
  readonly #auth: AuthSettings;
  readonly #clock: Clock | undefined;
  readonly #writer: StoreWriter;
  readonly #deliverers = new Map<string, { stage: (typeof STAGES)[number]; deliverer: Deliverer<unknown> }>();
  readonly #onEvent: (event: OutboxEvent) => void;
  readonly #stats: OutboxStats = { stored: 0, refused: 0, delivered: 0, dead: 0, deadLetters: [] };
  #delivering = false;
  #stopped = false;
  /** Set by interrupt(): settles once the requests in flight then were answered, or the grace ran out. */
  #interrupted: Promise<void> | undefined;
  #warnedNearCap = false;

  constructor(options: OutboxOptions) {
    const store = options.traces;
    this.#traces = store;
    this.#evaluations = options.evaluations;
    this.#auth = options.auth;
    this.#clock = options.clock;
    this.#onEvent = options.onEvent ?? (() => {});
    const onWritten = options.onWritten ?? (() => {});
    this.#writer = new StoreWriter(store.writes, {
      leaseOffers: () => this.#leaseOffers(),
      onWrite: (result) => {
        onWritten(result.written + result.refused);
        this.#stats.stored += result.added;
        if (result.refused > 0) {
          this.#refuse(
            result.refused,
            `the store ${store.dir} is full (${Math.round(store.writes.maxBytes / 1024 ** 2)} MB cap) and holds only undelivered traces`,
          );
        }
        if (result.nearCap && !this.#warnedNearCap) {
          this.#warnedNearCap = true;
          this.#onEvent({ kind: 'store-near-cap', bytes: store.writes.bytes(), maxBytes: store.writes.maxBytes });
        }
        for (const [key, batches] of result.leased) this.#traceDeliverer(key)?.hand(batches);
        if (result.written > result.leasedCount) this.#wake('traces');
      },
      onTrouble: (error) => {
        if (error === undefined) {
          delete this.#stats.storeTrouble;
          this.#onEvent({ kind: 'store-recovered' });
          return;
        }
        const reason = `the store ${store.dir} cannot be written: ${errorMessage(error)}`;
        const first = !this.#stats.storeTrouble;
        this.#stats.storeTrouble = { since: this.#stats.storeTrouble?.since ?? new Date().toISOString(), reason };
        if (first) this.#onEvent({ kind: 'store-failing', reason });
      },
    });
  }

  /** Where traces (and, for an experiment, suite runs and scores) go; one already known is kept as it is. */
  addDestination(destination: ResolvedDestination): void {
    this.#add('traces', destination.key, this.#traces.outbox, traceSenderFor(destination, this.#auth));
    if ((destination.kind === 'mlflow' || destination.kind === 'databricks') && this.#evaluations)
      this.addEvaluationDestination(destination);
  }

  /** Suite runs and scores wait for the experiment, whatever run its traces link to. */
  addEvaluationDestination(destination: Pick<ResolvedExperiment, 'kind' | 'target' | 'experiment'>): void {
    const evaluations = this.#evaluations;
    if (!evaluations) return;
    const key = targetKey(withoutRun(destination.target));
    const { http } = connectTo(destination.target.server, this.#auth);
    const description = describeTarget(withoutRun(destination.target));
    this.#add(
      'suite runs',
      key,
      evaluations.suiteRuns,
      suiteRunSender({
        description,
        http,
        experimentId: destination.experiment.id,
        recordStep: (id, step, runId) => evaluations.recordStep(id, step, runId),
      }),
    );
    this.#add(
      'scores',
      key,
      evaluations.scores,
      scoreSender({ description, http, recordAssessment: (id, assessmentId) => evaluations.recordAssessment(id, assessmentId) }),
    );
  }

  #add<Item>(stage: (typeof STAGES)[number], key: string, queue: OutboxQueue<Item>, sender: Sender<Item>): void {
    const id = delivererId(stage, key);
    if (this.#deliverers.has(id)) return;
    const deliverer = new Deliverer<Item>({
      queue,
      key,
      sender,
      ...(this.#clock && { clock: this.#clock }),
      onEvent: (event) => {
        if (stage === 'traces' && event.kind === 'dead' && this.#stats.deadLetters.length < REPORTED_DEAD_LETTERS) {
          const { kind: _kind, queue: _queue, label, ...letter } = event;
          this.#stats.deadLetters.push({ traceId: label, ...letter });
        }
        this.#onEvent(event);
      },
    });
    this.#deliverers.set(id, { stage, deliverer: deliverer as Deliverer<unknown> });
    if (this.#delivering) deliverer.start();
  }

  get stats(): OutboxStats {
    let delivered = 0;
    let dead = 0;
    let lastFailure: OutboxStats['lastFailure'];
    for (const { stage, deliverer } of this.#deliverers.values()) {
      const { stats } = deliverer;
      if (stage === 'traces') {
        delivered += stats.delivered;
        dead += stats.dead;
      }
      if (stats.lastFailure && (!lastFailure || stats.lastFailure.at > lastFailure.at)) lastFailure = stats.lastFailure;
    }
    return { ...this.#stats, deadLetters: [...this.#stats.deadLetters], delivered, dead, ...(lastFailure && { lastFailure }) };
  }

  /** Long-running processes deliver while they run; one-shot commands only when they flush. */
  startDelivering(): void {
    this.#delivering = true;
    for (const { deliverer } of this.#deliverers.values()) deliverer.start();
  }

  add(traces: readonly TraceToStore[]): void {
    for (const trace of traces) this.#writer.enqueue(trace);
  }

  /** Like `add`; `done` is called once they are committed, with the ids of any the store refused. */
  addDurably(traces: readonly TraceToStore[], done: (refusedIds: string[]) => void): void {
    this.#writer.enqueueDurably(traces, done);
  }

  /**
   * Writes what is queued, then delivers what waits, traces first, until done, the deadline, or (for
   * one-shot commands) a destination that keeps failing.
   */
  async flush(
    deadlineMs: number,
    { releaseHolds, maxConsecutiveFailures = ONE_SHOT_MAX_FAILURES }: Omit<DrainOptions, 'deadlineMs'> & FlushOptions = {},
  ): Promise<void> {
    this.#writer.flush();
    // On the connection that claims them, after the writes before it: no other reader's snapshot or
    // commit order can hide a released trace from the drain.
    if (releaseHolds) this.#traces.writes.releaseHolds();
    const deadline = Date.now() + deadlineMs;
    for (const stage of STAGES) {
      const left = deadline - Date.now();
      if (left <= 0 || this.#stopped) break;
      await Promise.all(
        [...this.#deliverers.values()]
          .filter((entry) => entry.stage === stage)
          .map(({ deliverer }) => deliverer.drain({ maxConsecutiveFailures, deadlineMs: left })),
      );
    }
    await this.#interrupted;
  }

  /**
   * Takes no new work from now on: a flush under way returns, requests in flight finish (or time
   * out) on their own, and what was not sent keeps waiting for the next run.
   */
  stop(): void {
    this.#stopped = true;
    for (const { deliverer } of this.#deliverers.values()) deliverer.stop();
  }

  /**
   * A person's Ctrl-C while it delivers: stops, and a flush under way returns once the requests
   * already sent were answered (for a moment at most), so that an answer MLflow gave is recorded
   * rather than sent again by the next run.
   */
  interrupt(): void {
    this.stop();
    this.#interrupted ??= Promise.all(
      [...this.#deliverers.values()].map(({ deliverer }) => deliverer.inFlightSettled(INTERRUPT_GRACE_MS)),
    ).then(() => undefined);
  }

  /**
   * Flushes, then stops delivering and closes the stores. Requests still in flight are abandoned (their
   * items stay waiting); traces a failing disk never took are counted as refused, with the reason.
   */
  async close(deadlineMs: number): Promise<void> {
    await this.flush(deadlineMs);
    this.stop();
    const unwritten = this.#writer.abandon();
    if (unwritten > 0) this.#refuse(unwritten, this.#stats.storeTrouble?.reason ?? `the store ${this.#traces.dir} could not be written`);
    this.#traces.close();
    this.#evaluations?.close();
  }

  #refuse(traces: number, reason: string): void {
    this.#stats.refused += traces;
    this.#stats.refusedReason = reason;
    this.#onEvent({ kind: 'store-refused', traces, reason });
  }

  /** Trace deliverers ready to take new traces as they are written (see Deliverer.offer), by destination. */
  #leaseOffers(): Map<string, LeaseOffer> {
    const offers = new Map<string, LeaseOffer>();
    for (const { stage, deliverer } of this.#deliverers.values()) {
      const offer = stage === 'traces' ? deliverer.offer() : undefined;
      if (offer) offers.set(deliverer.key, offer);
    }
    return offers;
  }

  #traceDeliverer(key: string): Deliverer<unknown> | undefined {
    return this.#deliverers.get(delivererId('traces', key))?.deliverer;
  }

  #wake(stage: (typeof STAGES)[number]): void {
    for (const entry of this.#deliverers.values()) if (entry.stage === stage) entry.deliverer.wake();
  }
}

function delivererId(stage: (typeof STAGES)[number], key: string): string {
  return `${stage}\u0000${key}`;
}
