import { decodeTrace } from '../../destination/encoded-trace.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import type { LocalSpan } from '../../spans/local-span.ts';
import { mlflowTraceId } from '../../tracing/trace-id.ts';
import type { StoreDatabase } from './open-store-database.ts';
import type { DeliveryInfo, DeliveryState, LocalTraceStatus, StoredTrace, StoredTraceSummary } from './stored-trace.ts';

interface ListFilter {
  since?: Date;
  status?: LocalTraceStatus;
  state?: DeliveryState;
  limit?: number;
}

interface SelectFilter {
  since?: Date;
  states: readonly DeliveryState[];
  /** Leave out traces of these origins (doctor's test traces, unless asked for). */
  excludeOrigins?: readonly string[];
  /** Leave out traces already delivered to this destination. */
  excludeDeliveredTo?: string;
}

export type StateCounts = Record<DeliveryState, number>;

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
 * What `traces list/show`, push and health pages read from the traces table: summaries (from the
 * columns kept beside the spans, so that listing never parses them), one trace whole, delivery states,
 * counts, and the ids a push selects. Nothing here changes a row.
 */
export class TraceReads {
  readonly #db: StoreDatabase;
  /** The store's file, for messages. */
  readonly #path: string;

  constructor(db: StoreDatabase, path: string) {
    this.#db = db;
    this.#path = path;
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
    const rows = this.#db
      .statement(
        `SELECT ${SUMMARY_COLUMNS}, b.otlp FROM traces LEFT JOIN trace_bodies b ON b.id = body_id
         WHERE trace_id >= ? AND trace_id < ? ORDER BY trace_id LIMIT 4`,
      )
      .all(wanted, `${wanted}g`) as unknown as (Row & { otlp: Uint8Array | null })[];
    if (rows.length > 1) {
      const shown = rows.slice(0, 3).map((row) => mlflowTraceId(row.trace_id));
      throw new ExpectedError(`'${id}' matches more than one stored trace (${shown.join(', ')}${rows.length > 3 ? ', …' : ''})`, {
        exitCode: ExitCode.usage,
        hint: 'give more characters of the trace id',
      });
    }
    const row = rows[0];
    if (!row) return undefined;
    const spans = readableSpans(row.otlp);
    if (!spans) {
      throw new ExpectedError(
        `the stored record of ${mlflowTraceId(row.trace_id)} in ${this.#path} is damaged: its spans cannot be decoded`,
        {
          exitCode: ExitCode.internal,
          hint: 'it was changed by hand or by a disk fault; `otel-mlflow traces prune --undelivered` with a cutoff after it deletes it',
        },
      );
    }
    return { traceId: mlflowTraceId(row.trace_id), savedAt: new Date(row.saved_ms).toISOString(), spans, delivery: toDelivery(row) };
  }

  /** The delivery state of one trace, by its 32 hex digits. */
  deliveryOf(hex: string): DeliveryInfo | undefined {
    const row = this.#db.statement(`SELECT ${SUMMARY_COLUMNS} FROM traces WHERE trace_id = ?`).get(hex) as Row | undefined;
    return row && toDelivery(row);
  }

  /** How many traces are in each state, for `destination` alone when given. */
  counts(destination?: string): StateCounts {
    const counts: StateCounts = { local: 0, pending: 0, delivered: 0, dead: 0 };
    const rows =
      destination === undefined
        ? this.#db.statement('SELECT state, count(*) AS n FROM traces GROUP BY state').all()
        : // Each state an equality, so the delivery index (state, destination, …) answers without reading rows.
          this.#db
            .statement(
              `SELECT state, count(*) AS n FROM traces WHERE state IN ('local', 'pending', 'delivered', 'dead') AND destination = ? GROUP BY state`,
            )
            .all(destination);
    for (const row of rows) counts[row.state as DeliveryState] = Number(row.n);
    return counts;
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

  /** The destinations traces are pending for. */
  pendingDestinations(): string[] {
    return this.#db
      .statement(`SELECT DISTINCT destination FROM traces WHERE state = 'pending' AND destination IS NOT NULL`)
      .all()
      .map((row) => String(row.destination));
  }
}

/** Decoded only here, when one trace is shown; undefined when the record is damaged or holds no span. */
function readableSpans(otlp: Uint8Array | null): LocalSpan[] | undefined {
  if (!otlp) return undefined;
  try {
    const spans = decodeTrace(otlp);
    return spans.length > 0 ? spans : undefined;
  } catch {
    return undefined;
  }
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
