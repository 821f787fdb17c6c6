import { join } from 'node:path';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { openStoreDatabase, STORE_FILE, type StoreDatabase } from './open-store-database.ts';
import { mlflowTraceId } from '../../tracing/trace-id.ts';
import { importLegacyTraceFiles } from './legacy-trace-files.ts';
import { mergeSpans } from './merge-spans.ts';
import type { LocalSpan } from '../../spans/local-span.ts';
import type { DeliveryInfo, DeliveryState, LocalTraceStatus, StoredTrace, StoredTraceSummary } from './stored-trace.ts';
import { summarizeTrace } from './summarize-trace.ts';
import type { OutgoingTrace } from '../../destination/sender.ts';
import type { ClaimLimits, OutboxQueue } from '../deliver/deliverer.ts';

/** Near the cap the user is warned, before anything has to give way. */
const WARN_FRACTION = 0.9;
export const DEFAULT_MAX_STORE_BYTES = 2 * 1024 ** 3;

/** One assembled trace on its way into the store. */
export interface TraceToStore {
  spans: LocalSpan[];
  /** The command that produced it. */
  origin: string;
  /** The destination it must reach; absent in local-only mode. */
  destination?: string;
  /** An earlier version may have sent it already: a REST delivery looks it up before registering it. */
  maybeSent?: boolean;
  /**
   * Spans that arrive over the wire as they end (the relay): the trace is held back from delivery
   * until its root has arrived and `quietMs` passed without new spans, or `maxWaitMs` after its first
   * spans, so it goes out whole rather than in pieces. Held on disk, never in memory.
   */
  hold?: AssemblyHold;
}

export interface AssemblyHold {
  quietMs: number;
  maxWaitMs: number;
}

export interface WriteResult {
  written: number;
  /** Traces that did not fit under the size cap although every delivered trace was given up for them. */
  refused: number;
  /** The trace ids (hex) of the refused ones, so a caller waiting for its own traces knows. */
  refusedIds: string[];
  /** Delivered traces deleted to make room. */
  evicted: number;
  /** The store is past the warning line of its cap. */
  nearCap: boolean;
}

/** A pending trace leased to one deliverer: no other process sends it until the lease ends. */
export interface ClaimedTrace extends OutgoingTrace {
  /** Late spans bump it: a trace re-sent while they arrived stays pending. */
  version: number;
  bytes: number;
}

export interface Outcome {
  status?: number;
  answer?: string;
}

export interface ListFilter {
  since?: Date;
  status?: LocalTraceStatus;
  state?: DeliveryState;
  limit?: number;
}

export interface SelectFilter {
  since?: Date;
  states: readonly DeliveryState[];
  /** Leave out traces of these origins (doctor's test traces, unless asked for). */
  excludeOrigins?: readonly string[];
  /** Leave out traces already delivered to this destination. */
  excludeDeliveredTo?: string;
}

export type StateCounts = Record<DeliveryState, number>;

export interface StoreOptions {
  maxBytes?: number;
  /**
   * The most pages the database file may grow to (SQLite's max_page_count): writes beyond it fail as
   * on a full disk. Tests use it to fill a disk without one.
   */
  pageLimit?: number;
  now?: () => number;
}

interface Row {
  trace_id: string;
  start_ms: number;
  duration_ms: number;
  root_name: string;
  status: LocalTraceStatus;
  span_count: number;
  tokens_in: number | null;
  tokens_out: number | null;
  tokens_total: number | null;
  request_preview: string | null;
  response_preview: string | null;
  origin: string;
  state: DeliveryState;
  destination: string | null;
  attempts: number;
  last_try_ms: number | null;
  last_status: number | null;
  last_answer: string | null;
  saved_ms: number;
}

const SUMMARY_COLUMNS =
  'trace_id, start_ms, duration_ms, root_name, status, span_count, tokens_in, tokens_out, tokens_total, ' +
  'request_preview, response_preview, origin, state, destination, attempts, last_try_ms, last_status, last_answer, saved_ms';

/**
 * The one embedded trace store, which is also the outbox: every finished trace is written here first
 * (SQLite in WAL mode: a committed trace survives SIGKILL and power loss, readers never see half a
 * trace, and several processes may share it), then delivered from here by whichever process has a
 * destination. Summary columns are kept beside the spans so that listing never parses them.
 */
export class TraceStore implements OutboxQueue<ClaimedTrace> {
  readonly name = 'traces';
  readonly dir: string;
  readonly path: string;
  readonly maxBytes: number;
  readonly #db: StoreDatabase;
  readonly #now: () => number;

  private constructor(dir: string, db: StoreDatabase, options: StoreOptions) {
    this.dir = dir;
    this.path = join(dir, STORE_FILE);
    this.#db = db;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_STORE_BYTES;
    this.#now = options.now ?? Date.now;
  }

  /** Opens (creating when needed) the store in `dir`, importing trace files of the previous format. */
  static open(dir: string, options: StoreOptions = {}): TraceStore {
    const db = openStoreDatabase(dir);
    if (options.pageLimit !== undefined) db.exec(`PRAGMA max_page_count = ${Math.floor(options.pageLimit)}`);
    const store = new TraceStore(dir, db, options);
    importLegacyTraceFiles(dir, (spans) => store.write([{ spans, origin: 'imported', maybeSent: true }]));
    return store;
  }

  close(): void {
    this.#db.close();
  }

  /** Stores traces in one transaction; spans of a trace already stored are merged in (by span id). */
  write(traces: readonly TraceToStore[]): WriteResult {
    const result: WriteResult = { written: 0, refused: 0, refusedIds: [], evicted: 0, nearCap: false };
    if (traces.length === 0) return result;
    const now = this.#now();
    this.#db.transaction(() => {
      const incoming = traces.map((trace) => {
        const spans = mergeSpans([], trace.spans);
        return { trace: { ...trace, spans }, json: JSON.stringify(spans) };
      });
      const needed = incoming.reduce((sum, { json }) => sum + json.length, 0);
      result.evicted = this.#makeRoom(needed);
      let room = this.maxBytes - this.bytes();
      for (const { trace, json } of incoming) {
        if (json.length > room && !this.#has(trace.spans[0]!.traceId)) {
          result.refused++;
          result.refusedIds.push(trace.spans[0]!.traceId);
          continue;
        }
        room -= this.#upsert(trace, json, now);
        result.written++;
      }
    });
    result.nearCap = this.bytes() >= this.maxBytes * WARN_FRACTION;
    return result;
  }

  /** Leases the oldest pending traces for `destination` to `owner`, within the limits. */
  claim(destination: string, owner: string, limits: ClaimLimits): ClaimedTrace[] {
    const now = this.#now();
    return this.#db.transaction(() => {
      const candidates = this.#db.statement(
        `SELECT trace_id, version, spans, bytes, attempts FROM traces
         WHERE state = 'pending' AND destination = ? AND lease_until_ms < ? AND ready_ms <= ? ORDER BY saved_ms LIMIT ?`,
      ).all(destination, now, now, limits.maxItems) as { trace_id: string; version: number; spans: string; bytes: number; attempts: number }[];
      const claimed: ClaimedTrace[] = [];
      let bytes = 0;
      for (const row of candidates) {
        // One trace larger than the limit still goes, alone: the server decides whether it is too large.
        if (claimed.length > 0 && bytes + row.bytes > limits.maxBytes) break;
        const spans = parseSpans(row.spans);
        if (!spans) {
          // Damaged on disk (by hand, or by a disk fault): kept for a person to look at, never sent.
          this.#db.statement(`UPDATE traces SET state = 'dead', last_try_ms = ?, last_answer = ? WHERE trace_id = ?`).run(
            now,
            'the stored record is damaged (its spans are not readable JSON) and cannot be sent',
            row.trace_id,
          );
          continue;
        }
        bytes += row.bytes;
        claimed.push({ hex: row.trace_id, traceId: mlflowTraceId(row.trace_id), version: row.version, spans, bytes: row.bytes, attempts: row.attempts });
      }
      // Counted as a try when it starts: a process that dies mid-request leaves a trace the next try
      // must look up before sending it again.
      const lease = this.#db.statement('UPDATE traces SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1 WHERE trace_id = ?');
      for (const trace of claimed) lease.run(owner, now + limits.leaseMs, trace.hex);
      return claimed;
    });
  }

  /** Delivered, unless late spans changed the trace meanwhile (then it goes out again, whole). */
  markDelivered(traces: readonly ClaimedTrace[], outcome: Outcome): void {
    const now = this.#now();
    this.#db.transaction(() => {
      const delivered = this.#db.statement(
        `UPDATE traces SET state = 'delivered', last_try_ms = ?, last_status = ?,
           last_answer = NULL, lease_owner = NULL, lease_until_ms = 0 WHERE trace_id = ? AND version = ?`,
      );
      for (const trace of traces) {
        if (delivered.run(now, outcome.status ?? null, trace.hex, trace.version).changes === 0) this.#release(trace, outcome, now);
      }
    });
  }

  /** Not delivered this time, for a reason that may pass (server down, busy, timed out): stays pending. */
  release(traces: readonly ClaimedTrace[], outcome: Outcome, notBefore = 0): void {
    const now = this.#now();
    this.#db.transaction(() => {
      for (const trace of traces) this.#release(trace, outcome, now, notBefore);
    });
  }

  /** Refused for good: kept with the server's answer until the cause is fixed and it is pushed again. */
  markDead(trace: ClaimedTrace, outcome: Outcome): void {
    this.#db.statement(
      `UPDATE traces SET state = 'dead', last_try_ms = ?, last_status = ?, last_answer = ?,
         lease_owner = NULL, lease_until_ms = 0 WHERE trace_id = ?`,
    ).run(this.#now(), outcome.status ?? null, outcome.answer ?? null, trace.hex);
  }

  renew(traces: readonly ClaimedTrace[], owner: string, leaseMs: number): void {
    const until = this.#now() + leaseMs;
    this.#db.transaction(() => {
      const renew = this.#db.statement('UPDATE traces SET lease_until_ms = ? WHERE trace_id = ? AND lease_owner = ?');
      for (const trace of traces) renew.run(until, trace.hex, owner);
    });
  }

  /** Who holds a lease on the trace now, if anyone. */
  leaseOwnerOf(hex: string): string | undefined {
    const row = this.#db.statement('SELECT lease_owner FROM traces WHERE trace_id = ? AND lease_owner IS NOT NULL AND lease_until_ms >= ?').get(hex, this.#now());
    return row ? String(row.lease_owner) : undefined;
  }

  label(trace: ClaimedTrace): string {
    return trace.traceId;
  }

  attempts(trace: ClaimedTrace): number {
    return trace.attempts + 1;
  }

  /** Owners holding leases now: a process that died mid-delivery still holds its traces until its leases run out. */
  leaseOwners(): string[] {
    return this.#db.statement('SELECT DISTINCT lease_owner FROM traces WHERE lease_owner IS NOT NULL AND lease_until_ms >= ?')
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

  /** Trace ids (hex) in the given states, oldest first. */
  select(filter: SelectFilter): string[] {
    const where = [`state IN (${filter.states.map(() => '?').join(', ')})`];
    const params: (string | number)[] = [...filter.states];
    if (filter.since) {
      where.push('start_ms >= ?');
      params.push(filter.since.getTime());
    }
    if (filter.excludeOrigins?.length) {
      where.push(`origin NOT IN (${filter.excludeOrigins.map(() => '?').join(', ')})`);
      params.push(...filter.excludeOrigins);
    }
    if (filter.excludeDeliveredTo !== undefined) {
      where.push(`NOT (state = 'delivered' AND destination = ?)`);
      params.push(filter.excludeDeliveredTo);
    }
    const rows = this.#db.prepare(`SELECT trace_id FROM traces WHERE ${where.join(' AND ')} ORDER BY start_ms`).all(...params);
    return rows.map((row) => String(row.trace_id));
  }

  /** Newest first; only summary columns are read. */
  list(filter: ListFilter = {}): StoredTraceSummary[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.since) {
      where.push('start_ms >= ?');
      params.push(filter.since.getTime());
    }
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.state) {
      where.push('state = ?');
      params.push(filter.state);
    }
    const limit = filter.limit ?? -1;
    const rows = this.#db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM traces ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY start_ms DESC LIMIT ?`)
      .all(...params, limit) as unknown as Row[];
    return rows.map(toSummary);
  }

  /** By `tr-…`, the 32 hex digits, or a unique prefix of either. */
  get(id: string): StoredTrace | undefined {
    const wanted = hexPrefixOf(id);
    if (wanted === undefined) return undefined;
    // 'g' sorts after every hex digit: the range holds exactly the ids with this prefix.
    const rows = this.#db.statement(`SELECT ${SUMMARY_COLUMNS}, spans FROM traces WHERE trace_id >= ? AND trace_id < ? ORDER BY trace_id LIMIT 4`).all(
      wanted,
      `${wanted}g`,
    ) as unknown as (Row & { spans: string })[];
    if (rows.length > 1) {
      const shown = rows.slice(0, 3).map((row) => mlflowTraceId(row.trace_id));
      throw new ExpectedError(`'${id}' matches more than one stored trace (${shown.join(', ')}${rows.length > 3 ? ', …' : ''})`, {
        exitCode: ExitCode.usage,
        hint: 'give more characters of the trace id',
      });
    }
    const row = rows[0];
    if (!row) return undefined;
    const spans = parseSpans(row.spans);
    if (!spans) {
      throw new ExpectedError(`the stored record of ${mlflowTraceId(row.trace_id)} in ${this.path} is damaged: its spans are not readable JSON`, {
        exitCode: ExitCode.internal,
        hint: 'it was changed by hand or by a disk fault; `otel-mlflow traces prune --undelivered` with a cutoff after it deletes it',
      });
    }
    return { traceId: mlflowTraceId(row.trace_id), savedAt: new Date(row.saved_ms).toISOString(), spans, delivery: toDelivery(row) };
  }

  /** The delivery state of one trace, by its 32 hex digits. */
  deliveryOf(hex: string): DeliveryInfo | undefined {
    const row = this.#db.statement(`SELECT ${SUMMARY_COLUMNS} FROM traces WHERE trace_id = ?`).get(hex) as Row | undefined;
    return row && toDelivery(row);
  }

  /**
   * Deletes traces that started at or before `olderThan`. Undelivered ones (local, pending, dead) are
   * kept unless `undelivered` says otherwise; `dryRun` only counts.
   */
  prune(olderThan: Date, options: { undelivered?: boolean; dryRun?: boolean } = {}): { deleted: number; keptUndelivered: number } {
    const cutoff = olderThan.getTime();
    const count = (states: string) =>
      Number(this.#db.prepare(`SELECT count(*) AS n FROM traces WHERE start_ms <= ? AND state ${states}`).get(cutoff)!.n);
    const deletable = options.undelivered ? `IN ('local', 'pending', 'delivered', 'dead')` : `= 'delivered'`;
    const keptUndelivered = options.undelivered ? 0 : count(`!= 'delivered'`);
    if (options.dryRun) return { deleted: count(deletable), keptUndelivered };
    const deleted = Number(this.#db.prepare(`DELETE FROM traces WHERE start_ms <= ? AND state ${deletable}`).run(cutoff).changes);
    return { deleted, keptUndelivered };
  }

  /** How many traces are in each state, for `destination` alone when given. */
  counts(destination?: string): StateCounts {
    const counts: StateCounts = { local: 0, pending: 0, delivered: 0, dead: 0 };
    const rows =
      destination === undefined
        ? this.#db.statement('SELECT state, count(*) AS n FROM traces GROUP BY state').all()
        : this.#db.statement('SELECT state, count(*) AS n FROM traces WHERE destination = ? GROUP BY state').all(destination);
    for (const row of rows) counts[row.state as DeliveryState] = Number(row.n);
    return counts;
  }

  /**
   * Ends the hold of held traces whose root has arrived (a relay shutting down: no more of their spans
   * come to it); traces still without a root stay held. Returns how many.
   */
  releaseHolds(): number {
    return Number(
      this.#db.statement(`UPDATE traces SET ready_ms = 0 WHERE state = 'pending' AND ready_ms > ? AND status != 'IN_PROGRESS'`).run(this.#now()).changes,
    );
  }

  /** The destinations traces are pending for. */
  pendingDestinations(): string[] {
    return this.#db.statement(`SELECT DISTINCT destination FROM traces WHERE state = 'pending' AND destination IS NOT NULL`)
      .all()
      .map((row) => String(row.destination));
  }

  /** Bytes of span data held, as the size cap counts them. */
  bytes(): number {
    return Number(this.#db.statement(`SELECT value FROM store_meta WHERE key = 'bytes'`).get()!.value);
  }

  /** The most recent failed try for `destination`, for health pages. */
  lastFailure(destination: string): (Outcome & { at: string }) | undefined {
    const row = this.#db.statement(
      `SELECT last_status, last_answer, last_try_ms FROM traces
       WHERE destination = ? AND state IN ('pending', 'dead') AND last_answer IS NOT NULL ORDER BY last_try_ms DESC LIMIT 1`,
    ).get(destination) as { last_status: number | null; last_answer: string; last_try_ms: number } | undefined;
    if (!row) return undefined;
    return {
      answer: row.last_answer,
      ...(row.last_status !== null && { status: row.last_status }),
      at: new Date(row.last_try_ms).toISOString(),
    };
  }

  /** `trace.spans` in store order, `json` their text. */
  #upsert(trace: TraceToStore, json: string, now: number): number {
    const hex = trace.spans[0]!.traceId;
    const existing = this.#db.statement('SELECT spans, state, first_seen_ms FROM traces WHERE trace_id = ?').get(hex) as
      | { spans: string; state: DeliveryState; first_seen_ms: number }
      | undefined;
    if (existing) {
      const spans = mergeSpans(parseSpans(existing.spans) ?? [], trace.spans);
      const merged = JSON.stringify(spans);
      // A late span makes a delivered trace pending again: OTLP ingest upserts by span id.
      const state = existing.state === 'delivered' && trace.destination ? 'pending' : existing.state;
      const summary = summaryColumns(hex, spans);
      this.#db.statement(
        `UPDATE traces SET start_ms = ?, duration_ms = ?, root_name = ?, status = ?, span_count = ?, tokens_in = ?,
           tokens_out = ?, tokens_total = ?, request_preview = ?, response_preview = ?, state = ?, version = version + 1,
           ready_ms = ?, saved_ms = ?, bytes = ?, spans = ? WHERE trace_id = ?`,
      ).run(...summary, state, readyAt(trace.hold, spans, now, existing.first_seen_ms || now), now, merged.length, merged, hex);
      return merged.length - existing.spans.length;
    }
    this.#db.statement(
      `INSERT INTO traces (trace_id, start_ms, duration_ms, root_name, status, span_count, tokens_in, tokens_out,
         tokens_total, request_preview, response_preview, origin, state, destination, attempts, ready_ms, first_seen_ms, saved_ms,
         bytes, spans)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      hex,
      ...summaryColumns(hex, trace.spans),
      trace.origin,
      trace.destination ? 'pending' : 'local',
      trace.destination ?? null,
      trace.maybeSent ? 1 : 0,
      readyAt(trace.hold, trace.spans, now, now),
      now,
      now,
      json.length,
      json,
    );
    return json.length;
  }

  #release(trace: ClaimedTrace, outcome: Outcome, now: number, notBefore = 0): void {
    this.#db.statement(
      `UPDATE traces SET last_try_ms = ?, last_status = ?, last_answer = ?, lease_owner = NULL, lease_until_ms = ?
       WHERE trace_id = ?`,
    ).run(now, outcome.status ?? null, outcome.answer ?? null, notBefore, trace.hex);
  }

  /** Oldest delivered traces go first when new ones would not fit; undelivered ones are never evicted. */
  #makeRoom(needed: number): number {
    let evicted = 0;
    while (this.bytes() + needed > this.maxBytes) {
      const gone = Number(
        this.#db.statement(
          `DELETE FROM traces WHERE trace_id IN (SELECT trace_id FROM traces WHERE state = 'delivered' ORDER BY saved_ms LIMIT 256)`,
        ).run().changes,
      );
      if (gone === 0) break;
      evicted += gone;
    }
    return evicted;
  }

  #has(hex: string): boolean {
    return this.#db.statement('SELECT 1 FROM traces WHERE trace_id = ?').get(hex) !== undefined;
  }

}

/**
 * When a held trace may go: a quiet period after its latest spans once the root is in, else a bound
 * from its first spans (a root that never comes, or lives in a process that does not send here).
 */
function readyAt(hold: AssemblyHold | undefined, spans: readonly LocalSpan[], now: number, firstSeen: number): number {
  if (!hold) return 0;
  const latest = firstSeen + hold.maxWaitMs;
  return spans.some(isRoot) ? Math.min(now + hold.quietMs, latest) : latest;
}

function isRoot(span: LocalSpan): boolean {
  return span.parentSpanId === null || span.parentIsRemote === true;
}

function parseSpans(text: string): LocalSpan[] | undefined {
  try {
    const spans = JSON.parse(text) as unknown;
    return Array.isArray(spans) && spans.length > 0 ? (spans as LocalSpan[]) : undefined;
  } catch {
    return undefined;
  }
}

function summaryColumns(hex: string, spans: LocalSpan[]) {
  const summary = summarizeTrace({ traceId: mlflowTraceId(hex), savedAt: '', spans });
  return [
    Date.parse(summary.startTime),
    summary.durationMs,
    summary.rootName,
    summary.status,
    summary.spanCount,
    summary.tokens?.input ?? null,
    summary.tokens?.output ?? null,
    summary.tokens?.total ?? null,
    summary.requestPreview ?? null,
    summary.responsePreview ?? null,
  ] as const;
}

function toSummary(row: Row): StoredTraceSummary {
  return {
    traceId: mlflowTraceId(row.trace_id),
    startTime: new Date(row.start_ms).toISOString(),
    rootName: row.root_name,
    status: row.status,
    spanCount: row.span_count,
    durationMs: row.duration_ms,
    ...(row.tokens_total !== null && { tokens: { input: row.tokens_in ?? 0, output: row.tokens_out ?? 0, total: row.tokens_total } }),
    ...(row.request_preview !== null && { requestPreview: row.request_preview }),
    ...(row.response_preview !== null && { responsePreview: row.response_preview }),
    delivery: toDelivery(row),
  };
}

function toDelivery(row: Row): DeliveryInfo {
  return {
    state: row.state,
    origin: row.origin,
    attempts: row.attempts,
    ...(row.destination !== null && { destination: row.destination }),
    ...(row.last_try_ms !== null && { lastTryAt: new Date(row.last_try_ms).toISOString() }),
    ...(row.last_status !== null && { lastStatus: row.last_status }),
    ...(row.last_answer !== null && { lastAnswer: row.last_answer }),
  };
}

/** The hex digits an id starts with: `tr-` + hex, bare hex, or a prefix of `tr-`; undefined when it cannot be an id. */
function hexPrefixOf(id: string): string | undefined {
  const lower = id.trim().toLowerCase();
  const bare = lower.startsWith('tr-') ? lower.slice(3) : 'tr-'.startsWith(lower) ? '' : lower;
  return /^[0-9a-f]{0,32}$/.test(bare) ? bare : undefined;
}
