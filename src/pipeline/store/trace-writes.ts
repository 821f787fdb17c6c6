import { mlflowTraceId } from '../../tracing/trace-id.ts';
import type { LocalSpan } from '../../spans/local-span.ts';
import { mergeSpans } from './merge-spans.ts';
import type { StoreDatabase } from './open-store-database.ts';
import type { DeliveryState } from './stored-trace.ts';
import { parseStoredSpans } from './stored-spans.ts';
import { summarizeTrace } from './summarize-trace.ts';

/** Near the cap the user is warned, before anything has to give way. */
const WARN_FRACTION = 0.9;
const DEFAULT_MAX_STORE_BYTES = 2 * 1024 ** 3;

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

  /** `trace.spans` in store order, `json` their text. */
  #upsert(trace: TraceToStore, json: string, now: number): number {
    const hex = trace.spans[0]!.traceId;
    const existing = this.#db.statement('SELECT spans, state, first_seen_ms FROM traces WHERE trace_id = ?').get(hex) as
      | { spans: string; state: DeliveryState; first_seen_ms: number }
      | undefined;
    if (existing) {
      const spans = mergeSpans(parseStoredSpans(existing.spans) ?? [], trace.spans);
      const merged = JSON.stringify(spans);
      // A late span makes a delivered trace pending again: OTLP ingest upserts by span id.
      const state = existing.state === 'delivered' && trace.destination ? 'pending' : existing.state;
      const summary = summaryColumns(hex, spans);
      this.#db
        .statement(
          `UPDATE traces SET start_ms = ?, duration_ms = ?, root_name = ?, status = ?, span_count = ?, tokens_in = ?,
           tokens_out = ?, tokens_total = ?, request_preview = ?, response_preview = ?, state = ?, version = version + 1,
           ready_ms = ?, saved_ms = ?, bytes = ?, spans = ? WHERE trace_id = ?`,
        )
        .run(...summary, state, readyAt(trace.hold, spans, now, existing.first_seen_ms || now), now, merged.length, merged, hex);
      return merged.length - existing.spans.length;
    }
    this.#db
      .statement(
        `INSERT INTO traces (trace_id, start_ms, duration_ms, root_name, status, span_count, tokens_in, tokens_out,
         tokens_total, request_preview, response_preview, origin, state, destination, attempts, ready_ms, first_seen_ms, saved_ms,
         bytes, spans)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
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

/** The summary kept beside the spans, so that listing never parses them. */
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
