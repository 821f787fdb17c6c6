import { MAX_SERVER_PAUSE_MS, type DeliveryOutcome } from '../../destination/classify-answer.ts';
import type { Sender } from '../../destination/sender.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { systemClock, type Clock } from '../../util/clock.ts';
import { isOwnerGone, leaseOwner } from './lease-owner.ts';

/** What a queue of the outbox does with items on their way out; the same lease model for every kind. */
export interface OutboxQueue<Item> {
  /** Plural, for people: `traces`, `suite runs`, `scores`. */
  readonly name: string;
  /** Leases the oldest waiting items for `key` to `owner`, within the limits; items another owner holds are left alone. */
  claim(key: string, owner: string, limits: ClaimLimits): Item[];
  /** Extends the leases `owner` holds on these items: a request that takes long is never taken over. */
  renew(items: readonly Item[], owner: string, leaseMs: number): void;
  /** In the destination; `note` says what it went without, if anything. */
  markDelivered(items: readonly Item[], outcome: { status?: number; note?: string }): void;
  /** Not delivered this time, for a reason that may pass: they wait, with the reason, and are not claimed before `notBefore` (epoch ms). */
  release(items: readonly Item[], outcome: { status?: number; answer: string }, notBefore?: number): void;
  /** Refused for good: kept with the answer until the cause is fixed and it is pushed again. */
  markDead(item: Item, outcome: { status?: number; answer: string }): void;
  /** Owners holding leases now. */
  leaseOwners(): string[];
  /** Ends the leases of an owner known to be gone. */
  releaseLeasesOf(owner: string): number;
  /** How an item is named in a dead letter: `tr-…`, `suite run 'suite-…'`, `score 'mentions' on tr-…`. */
  label(item: Item): string;
  /** Tries started for the item, this one included. */
  attempts(item: Item): number;
}

export interface ClaimLimits {
  maxItems: number;
  maxBytes: number;
  leaseMs: number;
}

export interface DelivererOptions<Item> {
  queue: OutboxQueue<Item>;
  /** The key of the destination: only items waiting for it are claimed. */
  key: string;
  sender: Sender<Item>;
  /** Requests in flight at first; more as the server keeps up, fewer when it struggles. */
  initialConcurrency?: number;
  maxConcurrency?: number;
  backoff?: Partial<BackoffPolicy>;
  /** How long a claimed item is ours between renewals: a crash costs at most this much delay. */
  leaseMs?: number;
  /** How often an idle deliverer looks for items other processes left waiting. */
  pollMs?: number;
  random?: () => number;
  clock?: Clock;
  onEvent?: (event: DeliveryEvent) => void;
}

export type DeliveryEvent =
  | { kind: 'delivered'; queue: string; items: number; status?: number; note?: string }
  | { kind: 'retry'; queue: string; items: number; status?: number; answer: string; delayMs: number }
  | { kind: 'dead'; queue: string; label: string; status?: number; answer: string };

export interface DeliveryStats {
  delivered: number;
  dead: number;
  /** Requests sent, splits of refused ones included. */
  requests: number;
  /** The last answer that was not a success, while the destination has not recovered since. */
  lastFailure?: { status?: number; answer: string; at: string };
}

export interface DrainOptions {
  deadlineMs: number;
  /** Give up early after this many failed tries in a row: a one-shot command should not wait out a dead server. */
  maxConsecutiveFailures?: number;
}

const DEFAULT_LEASE_MS = 60_000;
/** An item that must wait on its own (its trace not in MLflow yet) is looked at again after this, doubling. */
const ITEM_RETRY_MS = 1_000;
const ITEM_RETRY_MAX_MS = 10 * 60_000;
/** How often leases of processes that died (SIGKILL, a crash) are looked for. */
const ORPHAN_CHECK_MS = 30_000;

/**
 * Drains one queue of the outbox for one destination: many items per request where the sender takes
 * them, a few requests in flight (more while the server keeps up), exponential backoff with jitter on
 * answers that are not the items' fault (a server's Retry-After honoured up to a cap) for as long as
 * the process lives, and, when a request is refused in a way one item can cause, splitting it until
 * the bad item is alone: only that one becomes a dead letter. Items are leased while in flight and the
 * leases renewed until the answer, so processes sharing a store never send an item twice.
 */
export class Deliverer<Item> {
  readonly sender: Sender<Item>;
  readonly stats: DeliveryStats = { delivered: 0, dead: 0, requests: 0 };
  readonly #queue: OutboxQueue<Item>;
  readonly #key: string;
  readonly #owner = leaseOwner();
  readonly #maxConcurrency: number;
  readonly #backoff: Partial<BackoffPolicy>;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #onEvent: (event: DeliveryEvent) => void;
  readonly #inFlight = new Set<readonly Item[]>();
  /** Batches leased to this deliverer as they were written (see offer), sent before anything is claimed. */
  readonly #handed: Item[][] = [];
  #orphansCheckedAt = Number.NEGATIVE_INFINITY;
  /** When the queue was last asked for items. */
  #lookedAt = Number.NEGATIVE_INFINITY;
  #concurrency: number;
  #failuresInARow = 0;
  #pausedUntil = 0;
  #timer: unknown;
  #renewTimer: unknown;
  #running = false;
  #idle = false;
  #waiters: (() => void)[] = [];

  constructor(options: DelivererOptions<Item>) {
    this.#queue = options.queue;
    this.#key = options.key;
    this.sender = options.sender;
    this.#maxConcurrency = options.maxConcurrency ?? 8;
    this.#concurrency = Math.min(options.initialConcurrency ?? 2, this.#maxConcurrency);
    this.#backoff = options.backoff ?? {};
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#pollMs = options.pollMs ?? 1000;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
    this.#onEvent = options.onEvent ?? (() => {});
  }

  get key(): string {
    return this.#key;
  }

  /** Until when a server's answer paused delivery (epoch ms); 0 when it is not paused. */
  get pausedUntil(): number {
    return this.#pausedUntil > this.#clock.now() ? this.#pausedUntil : 0;
  }

  /**
   * What this deliverer would take if new items were leased to it as they are written: as many batches
   * as it may have requests in flight, less those it has; what it cannot send at once waits in memory,
   * its leases renewed. None while it is stopped or paused, or while older items wait in the queue (they
   * go first, claimed in order).
   */
  offer(): { owner: string; limits: ClaimLimits; batches: number } | undefined {
    const batches = this.#maxConcurrency - this.#inFlight.size - this.#handed.length;
    if (!this.#running || !this.#idle || batches <= 0 || this.#clock.now() < this.#pausedUntil) return undefined;
    return { owner: this.#owner, limits: this.#limits(), batches };
  }

  /** Batches leased to this deliverer as they were written, at its offer: sent now, with no claim. */
  hand(batches: readonly Item[][]): void {
    this.#handed.push(...batches);
    this.#keepLeases();
    if (this.#running) this.#pump();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#pump();
  }

  /** New items were written: look now rather than at the next poll. */
  wake(): void {
    this.#idle = false;
    if (this.#running && this.#clock.now() >= this.#pausedUntil) this.#pump();
  }

  /**
   * Delivers until nothing is waiting for this destination, the deadline passes, the deliverer is
   * stopped, or (when asked) the destination failed too often in a row. What is left keeps waiting in
   * the store.
   */
  async drain(options: DrainOptions): Promise<void> {
    this.start();
    // What was idle a moment ago may have work now (held traces released): look again first.
    this.wake();
    const deadline = this.#clock.now() + options.deadlineMs;
    const finished = () =>
      !this.#running ||
      (this.#idle && this.#inFlight.size === 0 && this.#handed.length === 0) ||
      (options.maxConsecutiveFailures !== undefined &&
        this.#failuresInARow >= options.maxConsecutiveFailures &&
        this.#inFlight.size === 0) ||
      this.#clock.now() >= deadline;
    // The deliverer's timers never hold the process open; a caller waiting for the drain does.
    const keepAlive = setInterval(() => {}, 60_000);
    let deadlineTimer: unknown;
    try {
      while (!finished()) {
        await new Promise<void>((resolve) => {
          this.#waiters.push(resolve);
          deadlineTimer = this.#clock.setTimeout(resolve, deadline - this.#clock.now());
        });
        this.#clock.clearTimeout(deadlineTimer);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * Resolves once no request is in flight, or after `waitMs`: what a stop gives the requests already
   * sent, so an answer MLflow gave is recorded rather than sent again by the next run.
   */
  async inFlightSettled(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops taking new work; requests in flight finish (or time out) on their own and record their outcome. */
  stop(): void {
    this.#running = false;
    // Handed batches never sent are no longer renewed: like a request abandoned in flight, their leases
    // run out, or end at once when a process on this machine finds this one gone.
    this.#handed.length = 0;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#notify();
  }

  #pump(): void {
    if (!this.#running) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const wait = this.#pausedUntil - this.#clock.now();
    if (wait > 0) {
      this.#schedule(wait);
      return;
    }
    this.#releaseOrphanedLeases();
    while (this.#inFlight.size < this.#concurrency) {
      let batch = this.#handed.shift();
      if (!batch) {
        const now = this.#clock.now();
        if (this.#idle && now - this.#lookedAt < this.#pollMs) {
          // Nothing waited when it last looked, and it was not woken since: it looks again once per poll,
          // not after every handed batch.
          this.#schedule(this.#lookedAt + this.#pollMs - now);
          return;
        }
        this.#lookedAt = now;
        try {
          batch = this.#queue.claim(this.#key, this.#owner, this.#limits());
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
      }
      this.#inFlight.add(batch);
      this.#keepLeases();
      this.#deliver(batch)
        .catch(() => {
          // A store closed under a request still in flight: the lease runs out, and the item goes again.
          this.#idle = false;
          try {
            this.#queue.release(batch, { answer: 'delivery was interrupted' });
          } catch {}
        })
        .finally(() => {
          this.#inFlight.delete(batch);
          this.#notify();
          this.#pump();
        });
    }
  }

  #limits(): ClaimLimits {
    return { maxItems: this.sender.maxItemsPerRequest, maxBytes: this.sender.maxBytesPerRequest, leaseMs: this.#leaseMs };
  }

  async #deliver(batch: Item[]): Promise<void> {
    await this.#settle(batch, await this.#send(batch));
  }

  #send(batch: Item[]): Promise<DeliveryOutcome> {
    this.stats.requests++;
    return this.sender.send(batch);
  }

  async #settle(batch: Item[], outcome: DeliveryOutcome): Promise<void> {
    const queue = this.#queue.name;
    switch (outcome.kind) {
      case 'delivered': {
        this.#queue.markDelivered(batch, outcome);
        this.stats.delivered += batch.length;
        delete this.stats.lastFailure;
        this.#failuresInARow = 0;
        this.#concurrency = Math.min(this.#maxConcurrency, this.#concurrency + 1);
        this.#onEvent({
          kind: 'delivered',
          queue,
          items: batch.length,
          ...(outcome.status !== undefined && { status: outcome.status }),
          ...(outcome.note && { note: outcome.note }),
        });
        return;
      }
      case 'retry': {
        if (outcome.scope === 'item') {
          // The destination answered well: only these items wait, longer each try, while the rest goes on.
          const attempts = Math.max(1, ...batch.map((item) => this.#queue.attempts(item)));
          this.#queue.release(batch, outcome, this.#clock.now() + Math.min(ITEM_RETRY_MAX_MS, ITEM_RETRY_MS * 2 ** (attempts - 1)));
          this.#onEvent({
            kind: 'retry',
            queue,
            items: batch.length,
            answer: outcome.answer,
            delayMs: 0,
            ...(outcome.status !== undefined && { status: outcome.status }),
          });
          return;
        }
        this.#queue.release(batch, outcome);
        // They wait again: a drain must wait for them, not take the empty claim before for the end.
        this.#idle = false;
        this.#failuresInARow++;
        const backoff = backoffDelay(this.#failuresInARow, this.#random, this.#backoff);
        // A server's hint is honoured up to a cap: a day-long Retry-After must not stop delivery for a day.
        const delayMs = Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, MAX_SERVER_PAUSE_MS));
        this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + delayMs);
        this.#concurrency = Math.max(1, Math.floor(this.#concurrency / 2));
        this.stats.lastFailure = { ...describe(outcome), at: new Date(this.#clock.now()).toISOString() };
        this.#onEvent({
          kind: 'retry',
          queue,
          items: batch.length,
          answer: outcome.answer,
          delayMs,
          ...(outcome.status !== undefined && { status: outcome.status }),
        });
        return;
      }
      case 'refused': {
        if (batch.length > 1) {
          // MLflow 3.11+ refuse a whole request for one bad span: halve until the bad item is alone.
          const half = Math.ceil(batch.length / 2);
          for (const part of [batch.slice(0, half), batch.slice(half)]) await this.#settle(part, await this.#send(part));
          return;
        }
        const item = batch[0]!;
        this.#queue.markDead(item, outcome);
        this.stats.dead++;
        this.stats.lastFailure = { ...describe(outcome), at: new Date(this.#clock.now()).toISOString() };
        this.#onEvent({
          kind: 'dead',
          queue,
          label: this.#queue.label(item),
          answer: outcome.answer,
          ...(outcome.status !== undefined && { status: outcome.status }),
        });
        return;
      }
    }
  }

  /** While requests are in flight their leases are renewed, so no other process takes their items over. */
  #keepLeases(): void {
    if (this.#renewTimer !== undefined) return;
    const renew = () => {
      this.#renewTimer = undefined;
      if (this.#inFlight.size === 0 && this.#handed.length === 0) return;
      try {
        this.#queue.renew([...this.#inFlight, ...this.#handed].flat(), this.#owner, this.#leaseMs);
      } catch {
        // Busy store: the next renewal comes well before the lease ends.
      }
      this.#renewTimer = this.#clock.setTimeout(renew, this.#leaseMs / 3);
    };
    this.#renewTimer = this.#clock.setTimeout(renew, this.#leaseMs / 3);
  }

  /** Items leased by a process on this machine that no longer runs are taken back at once. */
  #releaseOrphanedLeases(): void {
    const now = this.#clock.now();
    if (now - this.#orphansCheckedAt < ORPHAN_CHECK_MS) return;
    this.#orphansCheckedAt = now;
    try {
      for (const owner of this.#queue.leaseOwners()) if (isOwnerGone(owner)) this.#queue.releaseLeasesOf(owner);
    } catch {
      // Busy store: the leases run out on their own.
    }
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.#pump(), ms);
  }

  #notify(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

function describe(outcome: { status?: number; answer: string }): { status?: number; answer: string } {
  return { answer: outcome.answer, ...(outcome.status !== undefined && { status: outcome.status }) };
}
