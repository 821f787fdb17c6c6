import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Destination, DeliveryOutcome } from '../destinations/destination.ts';
import type { ClaimedTrace, TraceStore } from '../store/trace-store.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

export interface DelivererOptions {
  store: TraceStore;
  destination: Destination;
  /** Requests in flight at first; more as the server keeps up, fewer when it struggles. */
  initialConcurrency?: number;
  maxConcurrency?: number;
  backoff?: Partial<BackoffPolicy>;
  /** How long a claimed trace is ours: longer than a request with its timeout, short enough that a crash costs little. */
  leaseMs?: number;
  /** How often an idle deliverer looks for traces other processes left pending. */
  pollMs?: number;
  random?: () => number;
  onEvent?: (event: DeliveryEvent) => void;
}

export type DeliveryEvent =
  | { kind: 'delivered'; traces: number; status?: number }
  | { kind: 'retry'; traces: number; status?: number; answer: string; delayMs: number }
  | { kind: 'dead'; traceId: string; status?: number; answer: string }
  /** Delivered, but what had to follow (linking to a run) failed. */
  | { kind: 'after-delivery-failed'; traces: number; answer: string };

export interface DeliveryStats {
  delivered: number;
  dead: number;
  requests: number;
  /** Delivered traces whose follow-up (linking to a run) failed. */
  afterDeliveryProblems: number;
  /** The last answer that was not a success, while the destination has not recovered since. */
  lastFailure?: { status?: number; answer: string; at: string };
}

export interface DrainOptions {
  deadlineMs: number;
  /** Give up early after this many failed tries in a row: a one-shot command should not wait out a dead server. */
  maxConsecutiveFailures?: number;
}

/** Twice a request's timeout: a lease outlives any request of its holder. */
const DEFAULT_LEASE_MS = 60_000;
/** How often leases of processes that died (SIGKILL, a crash) are looked for. */
const ORPHAN_CHECK_MS = 30_000;

/**
 * Drains a destination's pending traces from the store: many traces per request, a few requests in
 * flight (more while the server keeps up), exponential backoff with jitter on retryable failures
 * (honouring Retry-After) for as long as the process lives, and, when a request is refused in a way
 * one trace can cause, splitting it until the bad trace is alone: only that one is dead-lettered.
 * Traces are leased while in flight, so several processes can share one store without sending a
 * trace twice.
 */
export class Deliverer {
  readonly destination: Destination;
  readonly #store: TraceStore;
  readonly #owner = leaseOwner(process.pid);
  #orphansCheckedAt = 0;
  readonly #maxConcurrency: number;
  readonly #backoff: Partial<BackoffPolicy>;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #random: () => number;
  readonly #onEvent: (event: DeliveryEvent) => void;
  #concurrency: number;
  #inFlight = 0;
  #failuresInARow = 0;
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #idleWaiters: (() => void)[] = [];
  #idle = false;
  readonly stats: DeliveryStats = { delivered: 0, dead: 0, requests: 0, afterDeliveryProblems: 0 };

  constructor(options: DelivererOptions) {
    this.#store = options.store;
    this.destination = options.destination;
    this.#maxConcurrency = options.maxConcurrency ?? 8;
    this.#concurrency = Math.min(options.initialConcurrency ?? 2, this.#maxConcurrency);
    this.#backoff = options.backoff ?? {};
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#pollMs = options.pollMs ?? 1000;
    this.#random = options.random ?? Math.random;
    this.#onEvent = options.onEvent ?? (() => {});
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get failuresInARow(): number {
    return this.#failuresInARow;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#pump();
  }

  /** New pending traces were written: look now rather than at the next poll. */
  wake(): void {
    this.#idle = false;
    if (this.#running && Date.now() >= this.#pausedUntil) this.#pump();
  }

  /**
   * Delivers until nothing is pending for this destination, the deadline passes, or (when asked) the
   * destination failed too often in a row. What is left stays pending in the store.
   */
  async drain(options: DrainOptions): Promise<void> {
    this.start();
    // What was idle a moment ago may have work now (held traces released): look again first.
    this.wake();
    const deadline = Date.now() + options.deadlineMs;
    const failedEnough = () =>
      options.maxConsecutiveFailures !== undefined && this.#failuresInARow >= options.maxConsecutiveFailures && this.#inFlight === 0;
    for (;;) {
      if (failedEnough()) return;
      if (this.#idle && this.#inFlight === 0) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops taking new work; requests in flight finish (or time out) on their own and record their outcome. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#notify();
  }

  #pump(): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const wait = this.#pausedUntil - Date.now();
    if (wait > 0) {
      this.#schedule(wait);
      return;
    }
    this.#releaseOrphanedLeases();
    while (this.#inFlight < this.#concurrency) {
      let batch: ClaimedTrace[];
      try {
        batch = this.#store.claim(this.destination.key, this.#owner, {
          maxTraces: this.destination.maxTracesPerRequest,
          maxBytes: this.destination.maxBytesPerRequest,
          leaseMs: this.#leaseMs,
        });
      } catch {
        // The store is busy with another process's long write: look again shortly.
        this.#schedule(this.#pollMs);
        return;
      }
      if (batch.length === 0) {
        this.#idle = true;
        this.#notify();
        this.#schedule(this.#pollMs);
        return;
      }
      this.#idle = false;
      this.#inFlight++;
      this.#deliver(batch)
        .catch(() => {
          // A store closed under a request still in flight: its lease runs out, and the trace goes again.
          try {
            this.#store.release(batch, { answer: 'delivery was interrupted' });
          } catch {}
        })
        .finally(() => {
          this.#inFlight--;
          this.#notify();
          this.#pump();
        });
    }
  }

  async #deliver(batch: ClaimedTrace[]): Promise<void> {
    this.stats.requests++;
    const outcome = await this.destination.send(batch);
    await this.#settle(batch, outcome);
  }

  async #settle(batch: ClaimedTrace[], outcome: DeliveryOutcome): Promise<void> {
    switch (outcome.kind) {
      case 'delivered': {
        this.#store.markDelivered(batch, { ...(outcome.status !== undefined && { status: outcome.status }) });
        this.stats.delivered += batch.length;
        delete this.stats.lastFailure;
        this.#failuresInARow = 0;
        this.#concurrency = Math.min(this.#maxConcurrency, this.#concurrency + 1);
        this.#onEvent({ kind: 'delivered', traces: batch.length, ...(outcome.status !== undefined && { status: outcome.status }) });
        const problem = await this.destination.afterDelivered?.(batch);
        if (problem) {
          this.stats.afterDeliveryProblems++;
          this.stats.lastFailure = { answer: problem, at: new Date().toISOString() };
          this.#onEvent({ kind: 'after-delivery-failed', traces: batch.length, answer: problem });
        }
        return;
      }
      case 'retry': {
        this.#store.release(batch, outcome);
        // They are pending again: a drain must wait for them, not take the empty claim before for the end.
        this.#idle = false;
        this.#failuresInARow++;
        const delayMs = outcome.retryAfterMs ?? backoffDelay(this.#failuresInARow, this.#random, this.#backoff);
        this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + delayMs);
        this.#concurrency = Math.max(1, Math.floor(this.#concurrency / 2));
        this.stats.lastFailure = { ...describe(outcome), at: new Date().toISOString() };
        this.#onEvent({ kind: 'retry', traces: batch.length, answer: outcome.answer, delayMs, ...(outcome.status !== undefined && { status: outcome.status }) });
        return;
      }
      case 'refused': {
        if (batch.length > 1) {
          // MLflow 3.11+ refuse a whole request for one bad span: halve until the bad trace is alone.
          const half = Math.ceil(batch.length / 2);
          for (const part of [batch.slice(0, half), batch.slice(half)]) {
            this.stats.requests++;
            await this.#settle(part, await this.destination.send(part));
          }
          return;
        }
        const trace = batch[0]!;
        this.#store.markDead(trace, outcome);
        this.stats.dead++;
        this.stats.lastFailure = { ...describe(outcome), at: new Date().toISOString() };
        this.#onEvent({ kind: 'dead', traceId: trace.traceId, answer: outcome.answer, ...(outcome.status !== undefined && { status: outcome.status }) });
        return;
      }
    }
  }

  /** Traces leased by a process on this machine that no longer runs are taken back at once. */
  #releaseOrphanedLeases(): void {
    const now = Date.now();
    if (now - this.#orphansCheckedAt < ORPHAN_CHECK_MS) return;
    this.#orphansCheckedAt = now;
    try {
      for (const owner of this.#store.leaseOwners()) {
        const pid = localPidOf(owner);
        if (pid !== undefined && !isRunning(pid)) this.#store.releaseLeasesOf(owner);
      }
    } catch {
      // Busy store: the leases run out on their own.
    }
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#pump(), ms);
    this.#timer.unref();
  }

  #notify(): void {
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}

function leaseOwner(pid: number): string {
  return `${hostname()}:${pid}:${randomBytes(4).toString('hex')}`;
}

/** The process id in a lease owner written on this machine; undefined for another machine's. */
function localPidOf(owner: string): number | undefined {
  const [host, pid] = owner.split(':');
  return host === hostname() && pid !== undefined && /^\d+$/.test(pid) ? Number(pid) : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(outcome: { status?: number; answer: string }): { status?: number; answer: string } {
  return { answer: outcome.answer, ...(outcome.status !== undefined && { status: outcome.status }) };
}
