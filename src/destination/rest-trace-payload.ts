import { SpanStatusCode, type AttributeValue, type Attributes } from '@opentelemetry/api';
import { hrToNanos } from '../spans/span-codec.ts';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { JSON_VALUED_ATTRIBUTES, MlflowAttr } from '../tracing/mlflow-attributes.ts';
import { hexToBase64, mlflowTraceId } from '../tracing/trace-id.ts';
import { findRoot, previewOf, sumTokenUsage, traceState } from '../tracing/trace-summary.ts';

/**
 * Builds the two bodies of MLflow's REST trace logging (StartTraceV3 and traces.json) from the spans
 * of one trace. On this path the server derives nothing, so previews, token usage, session and user
 * are computed here exactly as the OTLP path would show them.
 */
export interface RestTracePayload {
  traceId: string;
  startTraceBody: { trace: { trace_info: RestTraceInfo } };
  /** traces.json text: nanosecond times exceed 2^53, so it is assembled with exact integers. */
  tracesJson: string;
}

/** TraceInfoV3 in proto3 JSON, exactly the types MLflow parses (a wrong type silently loses the fields after it). */
export interface RestTraceInfo {
  trace_id: string;
  trace_location: { type: 'MLFLOW_EXPERIMENT'; mlflow_experiment: { experiment_id: string } };
  request_time: string;
  execution_duration: string;
  state: 'OK' | 'ERROR' | 'IN_PROGRESS';
  trace_metadata: Record<string, string>;
  tags: Record<string, string>;
  request_preview?: string;
  response_preview?: string;
}

export function buildRestTracePayload(spans: readonly ReadableSpan[], experimentId: string): RestTracePayload {
  const traceInfo = restTraceInfo(spans, experimentId);
  const traceId = traceInfo.trace_id;
  return {
    traceId,
    startTraceBody: { trace: { trace_info: traceInfo } },
    tracesJson: `{"spans":[${spans.map((span) => spanJson(span, traceId)).join(',')}]}`,
  };
}

/** The TraceInfoV3 of StartTraceV3 for these spans: everything MLflow shows of the trace, as the OTLP path would show it. */
export function restTraceInfo(spans: readonly ReadableSpan[], experimentId: string): RestTraceInfo {
  const first = spans[0];
  if (!first) throw new Error('restTraceInfo needs at least one span');
  const traceId = mlflowTraceId(first.spanContext().traceId);
  const root = findRoot(spans);
  const start = minTime(spans.map((s) => hrToNanos(s.startTime)));
  const end = maxTime(spans.map((s) => hrToNanos(s.endTime)));

  const metadata: Record<string, string> = { 'mlflow.trace_schema.version': '3' };
  const usage = sumTokenUsage(spans);
  if (usage) metadata['mlflow.trace.tokenUsage'] = JSON.stringify(usage);
  Object.assign(metadata, sessionMetadata(root));

  const tags: Record<string, string> = {};
  if (root) tags['mlflow.traceName'] = root.name;
  for (const [key, value] of Object.entries(root?.attributes ?? {})) {
    if (key.startsWith(MlflowAttr.traceTagPrefix) && value !== undefined) {
      tags[key.slice(MlflowAttr.traceTagPrefix.length)] = String(value);
    }
  }

  const traceInfo: RestTraceInfo = {
    trace_id: traceId,
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
    request_time: new Date(Number(start / 1_000_000n)).toISOString(),
    execution_duration: formatDuration(end - start),
    state: traceState(root),
    trace_metadata: metadata,
    tags,
  };
  const requestPreview = previewOf(root?.attributes[MlflowAttr.spanInputs], 'request');
  const responsePreview = previewOf(root?.attributes[MlflowAttr.spanOutputs], 'response');
  if (requestPreview !== undefined) traceInfo.request_preview = requestPreview;
  if (responsePreview !== undefined) traceInfo.response_preview = responsePreview;
  return traceInfo;
}

/** The root span's `session.id` / `user.id` as MLflow's session and user metadata: plain strings, as a search compares them. */
function sessionMetadata(root: Pick<ReadableSpan, 'attributes'> | undefined): Record<string, string> {
  const metadata: Record<string, string> = {};
  const session = root?.attributes['session.id'];
  const user = root?.attributes['user.id'];
  if (typeof session === 'string') metadata['mlflow.trace.session'] = session;
  if (typeof user === 'string') metadata['mlflow.trace.user'] = user;
  return metadata;
}

function spanJson(span: ReadableSpan, traceId: string): string {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  const fields = {
    trace_id: hexToBase64(context.traceId),
    span_id: hexToBase64(context.spanId),
    parent_span_id: parent && !parent.isRemote ? hexToBase64(parent.spanId) : null,
    name: span.name,
    start_time_unix_nano: '__START__',
    end_time_unix_nano: '__END__',
    events: span.events.map((event) => ({
      name: event.name,
      time_unix_nano: '__EVENT__',
      attributes: event.attributes ?? {},
    })),
    status: { code: STATUS_CODES[span.status.code], message: span.status.message ?? '' },
    attributes: restAttributes(span.attributes, traceId),
  };
  // Splice exact integers in place of the placeholders: JSON numbers from a JS Number would lose digits.
  let eventIndex = 0;
  return JSON.stringify(fields)
    .replace('"__START__"', hrToNanos(span.startTime).toString())
    .replace('"__END__"', hrToNanos(span.endTime).toString())
    .replace(/"__EVENT__"/g, () => hrToNanos(span.events[eventIndex++]!.time).toString());
}

const STATUS_CODES: Record<SpanStatusCode, string> = {
  [SpanStatusCode.UNSET]: 'STATUS_CODE_UNSET',
  [SpanStatusCode.OK]: 'STATUS_CODE_OK',
  [SpanStatusCode.ERROR]: 'STATUS_CODE_ERROR',
};

/** Every value a JSON-encoded string; every span carries mlflow.traceRequestId (the opposite of OTLP). */
function restAttributes(attributes: Attributes, traceId: string): Record<string, string> {
  const out: Record<string, string> = { [MlflowAttr.traceRequestId]: JSON.stringify(traceId) };
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || key === MlflowAttr.traceRequestId) continue;
    out[key] = encodeRestValue(key, value);
  }
  return out;
}

function encodeRestValue(key: string, value: AttributeValue): string {
  if (typeof value === 'string' && JSON_VALUED_ATTRIBUTES.has(key) && isJson(value)) return value;
  return JSON.stringify(value);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function minTime(values: bigint[]): bigint {
  // biome-ignore lint/complexity/useMathMinMax: these are bigints, which Math.min and Math.max throw on
  return values.reduce((a, b) => (b < a ? b : a));
}

function maxTime(values: bigint[]): bigint {
  // biome-ignore lint/complexity/useMathMinMax: these are bigints, which Math.min and Math.max throw on
  return values.reduce((a, b) => (b > a ? b : a));
}

/** proto3 JSON Duration: seconds with up to nanosecond precision and an `s` suffix. */
function formatDuration(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${seconds}.${fraction}s`;
}
