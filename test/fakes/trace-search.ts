import { MlflowError } from './mlflow-errors.ts';
import { tryParseJson } from './python-json.ts';
import type { StoredTrace } from './trace-store.ts';

/**
 * `POST /api/3.0/mlflow/traces/search` over stored traces: the filter terms MLflow's search
 * grammar offers for traces (joined by AND), order_by, max_results and the opaque page token
 * (`base64('{"offset": N}')`, as the SQL store makes it).
 */

export interface TraceQuery {
  filter?: string;
  maxResults: number;
  orderBy: string[];
  pageToken?: string;
}

interface Term {
  entity: 'trace' | 'tag' | 'metadata' | 'span';
  key: string;
  op: string;
  value: string | number;
}

const TERM =
  /^\s*(?:(\w+)\.)?(`[^`]+`|[\w.]+)\s*(!=|<>|>=|<=|=|>|<|NOT\s+LIKE|ILIKE|LIKE)\s*('(?:[^']*)'|"(?:[^"]*)"|-?\d+(?:\.\d+)?)\s*$/i;
const ENTITIES: Record<string, Term['entity']> = {
  trace: 'trace',
  attribute: 'trace',
  attributes: 'trace',
  tag: 'tag',
  tags: 'tag',
  metadata: 'metadata',
  request_metadata: 'metadata',
  span: 'span',
};

function splitAnd(filter: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < filter.length; i++) {
    const char = filter[i];
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"' || char === '`') {
      quote = char;
    } else if (/^\sAND\s/i.test(filter.slice(i, i + 5))) {
      parts.push(filter.slice(start, i));
      start = i + 5;
      i += 4;
    }
  }
  parts.push(filter.slice(start));
  return parts.filter((part) => part.trim() !== '');
}

function parseFilter(filter: string): Term[] {
  return splitAnd(filter).map((text) => {
    const match = TERM.exec(text);
    const entity = ENTITIES[(match?.[1] ?? 'trace').toLowerCase()];
    if (match === null || entity === undefined) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid filter string: ${text.trim()}`);
    }
    const [, , rawKey = '', rawOp = '', rawValue = ''] = match;
    const quoted = /^['"]/.test(rawValue);
    return {
      entity,
      key: rawKey.replace(/^`|`$/g, ''),
      op: rawOp.toUpperCase().replace(/\s+/, ' '),
      value: quoted ? rawValue.slice(1, -1) : Number(rawValue),
    };
  });
}

function likeToRegExp(pattern: string, flags: string): RegExp {
  const source = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${source}$`, flags);
}

function compare(actual: string | number | undefined, op: string, expected: string | number): boolean {
  if (actual === undefined) return op === '!=' || op === '<>';
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
    case '<>':
      return actual !== expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case 'LIKE':
      return likeToRegExp(String(expected), '').test(String(actual));
    case 'ILIKE':
      return likeToRegExp(String(expected), 'i').test(String(actual));
    case 'NOT LIKE':
      return !likeToRegExp(String(expected), '').test(String(actual));
    default:
      return false;
  }
}

function timestampMs(trace: StoredTrace): number {
  return Date.parse(trace.info.request_time);
}

function durationMs(trace: StoredTrace): number {
  return Math.round(Number.parseFloat(trace.info.execution_duration ?? '0') * 1000);
}

function traceField(trace: StoredTrace, key: string): string | number | undefined {
  switch (key) {
    case 'status':
    case 'state':
      return trace.info.state;
    case 'name':
      return trace.info.tags?.['mlflow.traceName'];
    case 'timestamp':
    case 'timestamp_ms':
      return timestampMs(trace);
    case 'execution_time':
    case 'execution_time_ms':
      return durationMs(trace);
    case 'request_id':
    case 'trace_id':
      return trace.info.trace_id;
    case 'client_request_id':
      return trace.info.client_request_id;
    default:
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid attribute key '${key}' specified.`);
  }
}

const SOURCE_RUN = 'mlflow.sourceRun';

/**
 * MLflow reads `run_id` as `metadata.mlflow.sourceRun` (SearchTraceUtils.SEARCH_KEY_TO_METADATA),
 * and the SQL store matches that key by the metadata or by a trace-to-run link.
 */
function matchesRun(trace: StoredTrace, term: Term): boolean {
  const runs = [trace.info.trace_metadata?.[SOURCE_RUN], ...trace.linkedRunIds].filter((run) => run !== undefined);
  return runs.length === 0 ? compare(undefined, term.op, term.value) : runs.some((run) => compare(run, term.op, term.value));
}

function matches(trace: StoredTrace, term: Term): boolean {
  switch (term.entity) {
    case 'trace':
      return term.key === 'run_id' ? matchesRun(trace, term) : compare(traceField(trace, term.key), term.op, term.value);
    case 'tag':
      return compare(trace.info.tags?.[term.key], term.op, term.value);
    case 'metadata':
      return term.key === SOURCE_RUN ? matchesRun(trace, term) : compare(trace.info.trace_metadata?.[term.key], term.op, term.value);
    case 'span':
      // Span rows exist only for OTLP-ingested traces (the SQL store's spans table).
      return (
        trace.loggedVia === 'otlp' &&
        trace.spans.some((span) => {
          const value = term.key === 'type' ? span.attributes['mlflow.spanType'] : term.key === 'name' ? span.name : undefined;
          return compare(typeof value === 'string' ? value : undefined, term.op, term.value);
        })
      );
  }
}

function orderKey(trace: StoredTrace, field: string): string | number {
  const key = field.replace(/^(trace|attributes?)\./, '');
  return traceField(trace, key) ?? '';
}

function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const parsed = tryParseJson(Buffer.from(token, 'base64').toString('utf8'))?.value;
  const offset = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).offset : undefined;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', 'Invalid page token, could not base64-decode');
  }
  return offset;
}

export function searchTraces(traces: StoredTrace[], query: TraceQuery): { traces: StoredTrace[]; nextPageToken?: string } {
  const terms = query.filter === undefined || query.filter.trim() === '' ? [] : parseFilter(query.filter);
  const orderBy = query.orderBy.length === 0 ? ['timestamp_ms DESC'] : query.orderBy;
  const sorted = traces
    .filter((trace) => terms.every((term) => matches(trace, term)))
    .sort((a, b) => {
      for (const clause of [...orderBy, 'trace_id ASC']) {
        const [field = '', direction = 'ASC'] = clause.trim().split(/\s+/);
        const [x, y] = [orderKey(a, field), orderKey(b, field)];
        if (x !== y) return (x < y ? -1 : 1) * (direction.toUpperCase() === 'DESC' ? -1 : 1);
      }
      return 0;
    });
  const offset = decodePageToken(query.pageToken);
  const page = sorted.slice(offset, offset + query.maxResults);
  const next = offset + page.length;
  return next < sorted.length ? { traces: page, nextPageToken: Buffer.from(`{"offset": ${next}}`).toString('base64') } : { traces: page };
}
