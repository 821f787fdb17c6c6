import { decodeTrace, type EncodedTrace, type TraceFacts } from '../../destination/encoded-trace.ts';
import type { LocalSpan } from '../../spans/local-span.ts';
import { encodeLocalTrace } from './lazy-encoder.ts';
import { mergeSpans } from './merge-spans.ts';
import type { StoreDatabase } from './open-store-database.ts';
import type { DeliveryState } from './stored-trace.ts';
import { type ClaimedTrace, LeaseBatcher, type LeaseOffer } from './trace-outbox.ts';

/** Near the cap the user is warned, before anything has to give way. */
const WARN_FRACTION = 0.9;
const DEFAULT_MAX_STORE_BYTES = 2 * 1024 ** 3;

/** One assembled trace on its way into the store, encoded once for its destination (see EncodedTrace). */
export interface TraceToStore extends EncodedTrace {
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
  /** Traces written: inserted, or merged into one stored already. */
  written: number;
  /** Of those, the traces new to the store: a trace that arrives in several parts is one. */
  added: number;
  /** Traces that did not fit under the size cap although every delivered trace was given up for them. */
  refused: number;
  /** The trace ids (hex) of the refused ones, so a caller waiting for its own traces knows. */
  refusedIds: string[];
  /** Delivered traces deleted to make room. */
  evicted: number;
  /** The store is past the warning line of its cap. */
  nearCap: boolean;
  /** Batches of new traces leased as they were written, by destination, for the deliverers that offered to take them. */
  leased: Map<string, ClaimedTrace[][]>;
  /** How many of the written traces were leased. */
  leasedCount: number;
}

/**
 * What goes into the traces table and what leaves it to make room: traces written whole or merged
 * span by span, under a size cap that gives up delivered traces first and never an undelivered one;
 * holds for traces that arrive in parts; pruning by age.
 */
export class TraceWrites {
  readonly maxBytes: number;
  readonly #db: StoreDatabase;
  readonly #now: () => number;

  constructor(db: StoreDatabase, options: { maxBytes?: number; now: () => number }) {
    this.#db = db;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_STORE_BYTES;
    this.#now = options.now;
  }

  /**
   * Stores traces in one transaction; spans of a trace already stored are merged in (by span id). New
   * traces for a destination in `offers`, not held, are leased to its deliverer in the same insert and
   * returned in batches: it sends them from memory, with no claim to read them back.
   */
  write(traces: readonly TraceToStore[], offers?: ReadonlyMap<string, LeaseOffer>): WriteResult {
    const result = emptyWriteResult();
    if (traces.length === 0) return result;
    const now = this.#now();
    const leasing = new Map([...(offers ?? [])].map(([key, offer]) => [key, new LeaseBatcher(offer, now)]));
    this.#db.transaction(() => {
      const needed = traces.reduce((sum, trace) => sum + trace.otlp.length, 0);
      result.evicted = this.#makeRoom(needed);
      let room = this.maxBytes - this.bytes();
      let inserted = 0;
      for (const trace of traces) {
        if (trace.otlp.length > room && !this.#has(trace.hex)) {
          result.refused++;
          result.refusedIds.push(trace.hex);
          continue;
        }
        const batcher = trace.destination !== undefined && !trace.hold ? leasing.get(trace.destination) : undefined;
        const lease = batcher?.leaseFor(trace);
        if (this.#insert(trace, now, lease)) {
          if (lease) batcher!.add(trace);
          result.added++;
          inserted += trace.otlp.length;
          room -= trace.otlp.length;
        } else {
          room -= this.#merge(trace, now);
        }
        result.written++;
      }
      // Merges keep the count by their trigger; inserts add theirs here, once per group.
      if (inserted > 0) this.#db.statement(`UPDATE store_meta SET value = value + ? WHERE key = 'bytes'`).run(inserted);
    });
    for (const [key, batcher] of leasing) {
      if (batcher.batches.length === 0) continue;
      result.leased.set(key, batcher.batches);
      result.leasedCount += batcher.count;
    }
    result.nearCap = this.bytes() >= this.maxBytes * WARN_FRACTION;
    return result;
  }

  /**
   * Ends the hold of held traces whose root has arrived (a relay shutting down: no more of their spans
   * come to it); traces still without a root stay held. Returns how many.
   */
  releaseHolds(): number {
    return Number(
      this.#db
        .statement(`UPDATE traces SET ready_ms = 0 WHERE state = 'pending' AND ready_ms > ? AND status != 'IN_PROGRESS'`)
        .run(this.#now()).changes,
    );
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

  /** Bytes of span data held, as the size cap counts them. */
  bytes(): number {
    return Number(this.#db.statement(`SELECT value FROM store_meta WHERE key = 'bytes'`).get()!.value);
  }

  /** Inserts the trace when it is new (nearly always), leased when `lease` says to whom; false when it is stored already. */
  #insert(trace: TraceToStore, now: number, lease: { owner: string; until: number } | undefined): boolean {
    const bodyId = Number(this.#db.statement('INSERT INTO trace_bodies (otlp) VALUES (?)').run(trace.otlp).lastInsertRowid);
    const attempts = trace.maybeSent ? 1 : 0;
    const inserted = this.#db
      .statement(
        `INSERT INTO traces (trace_id, start_ms, duration_ms, root_name, status, span_count, tokens_in, tokens_out,
         tokens_total, request_preview, response_preview, origin, state, destination, attempts, ready_ms, first_seen_ms, saved_ms,
         bytes, body_id, lease_owner, lease_until_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trace_id) DO NOTHING`,
      )
      .run(
        trace.hex,
        ...factColumns(trace.facts),
        trace.origin,
        trace.destination ? 'pending' : 'local',
        trace.destination ?? null,
        // A leased trace's try is counted when it starts, as a claim counts it.
        lease ? attempts + 1 : attempts,
        readyAt(trace.hold, trace.facts, now, now),
        now,
        now,
        trace.otlp.length,
        bodyId,
        lease?.owner ?? null,
        lease?.until ?? 0,
      );
    if (inserted.changes > 0) return true;
    this.#db.statement('DELETE FROM trace_bodies WHERE id = ?').run(bodyId);
    return false;
  }

  /** Merges the trace span by span into the one stored, which is then encoded anew; returns the bytes it added. */
  #merge(trace: TraceToStore, now: number): number {
    const existing = this.#db
      .statement(
        'SELECT b.otlp, t.state, t.first_seen_ms, t.body_id FROM traces t JOIN trace_bodies b ON b.id = t.body_id WHERE t.trace_id = ?',
      )
      .get(trace.hex) as { otlp: Uint8Array; state: DeliveryState; first_seen_ms: number; body_id: number };
    const merged = encodeLocalTrace(mergeSpans(storedSpans(existing.otlp), decodeTrace(trace.otlp)));
    // A copy of what is stored (a program that kept a batch at exit which the receiver took too): nothing to send again.
    if (Buffer.from(merged.otlp.buffer, merged.otlp.byteOffset, merged.otlp.byteLength).equals(existing.otlp)) return 0;
    // A late span makes a delivered trace pending again: OTLP ingest upserts by span id.
    const state = existing.state === 'delivered' && trace.destination ? 'pending' : existing.state;
    this.#db
      .statement(
        `UPDATE traces SET start_ms = ?, duration_ms = ?, root_name = ?, status = ?, span_count = ?, tokens_in = ?,
         tokens_out = ?, tokens_total = ?, request_preview = ?, response_preview = ?, state = ?, version = version + 1,
         ready_ms = ?, saved_ms = ?, bytes = ? WHERE trace_id = ?`,
      )
      .run(
        ...factColumns(merged.facts),
        state,
        readyAt(trace.hold, merged.facts, now, existing.first_seen_ms || now),
        now,
        merged.otlp.length,
        trace.hex,
      );
    this.#db.statement('UPDATE trace_bodies SET otlp = ? WHERE id = ?').run(merged.otlp, existing.body_id);
    return merged.otlp.length - existing.otlp.length;
  }

  /** Oldest delivered traces go first when new ones would not fit; undelivered ones are never evicted. */
  #makeRoom(needed: number): number {
    let evicted = 0;
    while (this.bytes() + needed > this.maxBytes) {
      const gone = Number(
        this.#db
          .statement(
            `DELETE FROM traces WHERE trace_id IN (SELECT trace_id FROM traces WHERE state = 'delivered' ORDER BY saved_ms LIMIT 256)`,
          )
          .run().changes,
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

export function emptyWriteResult(): WriteResult {
  return { written: 0, added: 0, refused: 0, refusedIds: [], evicted: 0, nearCap: false, leased: new Map(), leasedCount: 0 };
}

/**
 * When a held trace may go: a quiet period after its latest spans once the root is in, else a bound
 * from its first spans (a root that never comes, or lives in a process that does not send here).
 */
function readyAt(hold: AssemblyHold | undefined, facts: TraceFacts, now: number, firstSeen: number): number {
  if (!hold) return 0;
  const latest = firstSeen + hold.maxWaitMs;
  return facts.status === 'IN_PROGRESS' ? latest : Math.min(now + hold.quietMs, latest);
}

/** The spans of a stored trace to merge into; a record damaged on disk gives way to what arrives. */
function storedSpans(otlp: Uint8Array): LocalSpan[] {
  try {
    return decodeTrace(otlp);
  } catch {
    return [];
  }
}

/** The summary kept beside the spans, so that listing never decodes them. */
function factColumns(facts: TraceFacts) {
  return [
    facts.startMs,
    facts.durationMs,
    facts.rootName,
    facts.status,
    facts.spanCount,
    facts.tokens?.input ?? null,
    facts.tokens?.output ?? null,
    facts.tokens?.total ?? null,
    facts.requestPreview ?? null,
    facts.responsePreview ?? null,
  ] as const;
}
