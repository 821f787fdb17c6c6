import { type EncodedTrace, isWholeRequest } from '../../destination/encoded-trace.ts';
import { mlflowTraceId } from '../../tracing/trace-id.ts';
import type { OutgoingTrace } from '../../destination/sender.ts';
import type { ClaimLimits, OutboxQueue } from '../deliver/deliverer.ts';
import type { StoreDatabase } from './open-store-database.ts';

/** A pending trace leased to one deliverer: no other process sends it until the lease ends. */
export interface ClaimedTrace extends OutgoingTrace {
  /** Late spans bump it: a trace re-sent while they arrived stays pending. */
  version: number;
  bytes: number;
}

/** A deliverer's offer to take new traces as they are written: leased to `owner`, up to `batches` requests' worth. */
export interface LeaseOffer {
  owner: string;
  limits: ClaimLimits;
  batches: number;
}

/**
 * New traces leased to a deliverer as they are written, put into batches as a claim makes them (within
 * the limits, one trace larger than them alone), as many as the deliverer offered to take.
 */
export class LeaseBatcher {
  readonly batches: ClaimedTrace[][] = [];
  count = 0;
  readonly #offer: LeaseOffer;
  readonly #lease: { owner: string; until: number };
  /** Bytes in the last batch. */
  #bytes = 0;

  constructor(offer: LeaseOffer, now: number) {
    this.#offer = offer;
    this.#lease = { owner: offer.owner, until: now + offer.limits.leaseMs };
  }

  /** The lease the trace is written with, when it fits in what was offered. */
  leaseFor(trace: EncodedTrace): { owner: string; until: number } | undefined {
    return this.#fitsLast(trace) || this.batches.length < this.#offer.batches ? this.#lease : undefined;
  }

  /** A trace written with the lease, as the deliverer sends it: the bytes in hand, its first version, tries made before. */
  add(trace: EncodedTrace & { maybeSent?: boolean }): void {
    if (!this.#fitsLast(trace)) {
      this.batches.push([]);
      this.#bytes = 0;
    }
    const bytes = trace.otlp.length;
    this.batches
      .at(-1)!
      .push({ hex: trace.hex, traceId: mlflowTraceId(trace.hex), version: 1, otlp: trace.otlp, bytes, attempts: trace.maybeSent ? 1 : 0 });
    this.#bytes += bytes;
    this.count++;
  }

  #fitsLast(trace: EncodedTrace): boolean {
    const last = this.batches.at(-1);
    return (
      last !== undefined && last.length < this.#offer.limits.maxItems && this.#bytes + trace.otlp.length <= this.#offer.limits.maxBytes
    );
  }
}

/** What the destination answered to one try. */
interface Answer {
  status?: number;
  answer?: string;
}

/**
 * The traces table as the outbox's queue of traces: pending traces are leased to one deliverer at a
 * time (several processes may share the store), and each try ends delivered, released to wait, or
 * dead with the destination's answer. A push requeues traces here.
 */
export class TraceOutbox implements OutboxQueue<ClaimedTrace> {
  readonly name = 'traces';
  readonly #db: StoreDatabase;
  readonly #now: () => number;

  constructor(db: StoreDatabase, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** Leases the oldest pending traces for `destination` to `owner`, within the limits. */
  claim(destination: string, owner: string, limits: ClaimLimits): ClaimedTrace[] {
    const now = this.#now();
    return this.#db.transaction(() => {
      const candidates = this.#db
        .statement(
          `SELECT t.trace_id, t.version, b.otlp, t.bytes, t.attempts FROM traces t LEFT JOIN trace_bodies b ON b.id = t.body_id
         WHERE t.state = 'pending' AND t.destination = ? AND t.lease_until_ms < ? AND t.ready_ms <= ? ORDER BY t.saved_ms LIMIT ?`,
        )
        .all(destination, now, now, limits.maxItems) as {
        trace_id: string;
        version: number;
        otlp: Uint8Array | null;
        bytes: number;
        attempts: number;
      }[];
      const claimed: ClaimedTrace[] = [];
      let bytes = 0;
      for (const row of candidates) {
        // One trace larger than the limit still goes, alone: the server decides whether it is too large.
        if (claimed.length > 0 && bytes + row.bytes > limits.maxBytes) break;
        if (!(row.otlp instanceof Uint8Array) || !isWholeRequest(row.otlp)) {
          // Damaged on disk (by hand, or by a disk fault): kept for a person to look at, never sent.
          this.#db
            .statement(`UPDATE traces SET state = 'dead', last_try_ms = ?, last_answer = ? WHERE trace_id = ?`)
            .run(now, 'the stored record is damaged (its encoded spans are cut short or overwritten) and cannot be sent', row.trace_id);
          continue;
        }
        bytes += row.bytes;
        claimed.push({
          hex: row.trace_id,
          traceId: mlflowTraceId(row.trace_id),
          version: row.version,
          otlp: row.otlp,
          bytes: row.bytes,
          attempts: row.attempts,
        });
      }
      // Counted as a try when it starts: a process that dies mid-request leaves a trace the next try
      // must look up before sending it again.
      if (claimed.length > 0) {
        this.#db
          .statement(`UPDATE traces SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1 WHERE trace_id IN ${IDS}`)
          .run(owner, now + limits.leaseMs, idsOf(claimed));
      }
      return claimed;
    });
  }

  renew(traces: readonly ClaimedTrace[], owner: string, leaseMs: number): void {
    const until = this.#now() + leaseMs;
    this.#db
      .statement(`UPDATE traces SET lease_until_ms = ? WHERE trace_id IN ${IDS} AND lease_owner = ?`)
      .run(until, idsOf(traces), owner);
  }

  /** Delivered, unless late spans changed the trace meanwhile (then it goes out again, whole). */
  markDelivered(traces: readonly ClaimedTrace[], outcome: Answer): void {
    const now = this.#now();
    this.#db.transaction(() => {
      const marked = this.#db
        .statement(
          `UPDATE traces SET state = 'delivered', last_try_ms = ?, last_status = ?, last_answer = NULL, lease_owner = NULL,
           lease_until_ms = 0 FROM (SELECT value ->> 0 AS id, value ->> 1 AS version FROM json_each(?)) AS sent
           WHERE traces.trace_id = sent.id AND traces.version = sent.version RETURNING trace_id`,
        )
        .all(now, outcome.status ?? null, JSON.stringify(traces.map((trace) => [trace.hex, trace.version])));
      if (marked.length === traces.length) return;
      const done = new Set(marked.map((row) => row.trace_id));
      this.#release(
        traces.filter((trace) => !done.has(trace.hex)),
        outcome,
        now,
      );
    });
  }

  /** Not delivered this time, for a reason that may pass (server down, busy, timed out): stays pending. */
  release(traces: readonly ClaimedTrace[], outcome: Answer, notBefore = 0): void {
    const now = this.#now();
    this.#release(traces, outcome, now, notBefore);
  }

  /** Refused for good: kept with the server's answer until the cause is fixed and it is pushed again. */
  markDead(trace: ClaimedTrace, outcome: Answer): void {
    this.#db
      .statement(
        `UPDATE traces SET state = 'dead', last_try_ms = ?, last_status = ?, last_answer = ?,
         lease_owner = NULL, lease_until_ms = 0 WHERE trace_id = ?`,
      )
      .run(this.#now(), outcome.status ?? null, outcome.answer ?? null, trace.hex);
  }

  label(trace: ClaimedTrace): string {
    return trace.traceId;
  }

  attempts(trace: ClaimedTrace): number {
    return trace.attempts + 1;
  }

  /** Who holds a lease on the trace now, if anyone. */
  leaseOwnerOf(hex: string): string | undefined {
    const row = this.#db
      .statement('SELECT lease_owner FROM traces WHERE trace_id = ? AND lease_owner IS NOT NULL AND lease_until_ms >= ?')
      .get(hex, this.#now());
    return row ? String(row.lease_owner) : undefined;
  }

  /** Owners holding leases now: a process that died mid-delivery still holds its traces until its leases run out. */
  leaseOwners(): string[] {
    return this.#db
      .statement('SELECT DISTINCT lease_owner FROM traces WHERE lease_owner IS NOT NULL AND lease_until_ms >= ?')
      .all(this.#now())
      .map((row) => String(row.lease_owner));
  }

  /** Ends the leases of an owner known to be gone, so its traces go out now rather than when the leases run out. */
  releaseLeasesOf(owner: string): number {
    return Number(this.#db.statement('UPDATE traces SET lease_owner = NULL, lease_until_ms = 0 WHERE lease_owner = ?').run(owner).changes);
  }

  /**
   * Makes traces pending for `destination` (a push). A trace another process holds a lease on is left
   * to it: a lease is never broken while its holder lives. One that another process delivered there
   * since the push chose it is left delivered: made pending, it would be sent twice. Returns the ids
   * requeued, those left to a lease holder, and those found delivered there already.
   */
  requeue(hexIds: readonly string[], destination: string): { requeued: string[]; leased: string[]; delivered: string[] } {
    const requeued: string[] = [];
    const leased: string[] = [];
    const delivered: string[] = [];
    const now = this.#now();
    this.#db.transaction(() => {
      const requeue = this.#db.statement(
        `UPDATE traces SET state = 'pending', destination = ?, lease_owner = NULL, lease_until_ms = 0
         WHERE trace_id = ? AND (lease_owner IS NULL OR lease_until_ms < ?) AND NOT (state = 'delivered' AND destination = ?)`,
      );
      const deliveredThere = this.#db.statement(`SELECT 1 FROM traces WHERE trace_id = ? AND state = 'delivered' AND destination = ?`);
      for (const hex of hexIds) {
        if (requeue.run(destination, hex, now, destination).changes > 0) requeued.push(hex);
        else (deliveredThere.get(hex, destination) ? delivered : leased).push(hex);
      }
    });
    return { requeued, leased, delivered };
  }

  #release(traces: readonly ClaimedTrace[], outcome: Answer, now: number, notBefore = 0): void {
    this.#db
      .statement(
        `UPDATE traces SET last_try_ms = ?, last_status = ?, last_answer = ?, lease_owner = NULL, lease_until_ms = ?
       WHERE trace_id IN ${IDS}`,
      )
      .run(now, outcome.status ?? null, outcome.answer ?? null, notBefore, idsOf(traces));
  }
}

/** Many traces in one statement, their ids a JSON array (see idsOf): one statement per batch, not per row. */
const IDS = '(SELECT value FROM json_each(?))';

function idsOf(traces: readonly { hex: string }[]): string {
  return JSON.stringify(traces.map((trace) => trace.hex));
}
