import { dumpJson, tryParseJson } from './python-json.ts';
import type { StoredSpan } from './trace-store.ts';

/**
 * The two JSON shapes MLflow serves spans in: traces.json (`get-trace-artifact`; ids base64,
 * attribute values JSON-encoded strings) and the OTLP-proto JSON of `traces/get` / `batchGet`
 * (attributes as decoded AnyValues).
 */

function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

function base64ToHex(value: unknown): string {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : '';
}

/** traces.json as MLflow writes it for spans it stored from OTLP. */
export function tracesJsonText(spans: StoredSpan[], withLinks: boolean): string {
  return dumpJson({
    spans: spans.map((span) => ({
      trace_id: hexToBase64(span.traceId),
      span_id: hexToBase64(span.spanId),
      parent_span_id: span.parentSpanId === null ? null : hexToBase64(span.parentSpanId),
      name: span.name,
      start_time_unix_nano: span.startTimeUnixNano,
      end_time_unix_nano: span.endTimeUnixNano,
      events: span.events.map((event) => ({ name: event.name, time_unix_nano: event.timeUnixNano, attributes: event.attributes })),
      status: span.status,
      attributes: span.rawAttributes,
      ...(withLinks ? { links: [] } : {}),
    })),
  });
}

/** An attribute value as the AnyValue JSON of `traces/get` (mlflow.tracing.utils.otlp._set_otel_proto_anyvalue). */
function anyValueJson(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value === 'boolean') return { bool_value: value };
  if (typeof value === 'string') return { string_value: value };
  if (typeof value === 'bigint') return { int_value: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { int_value: value } : { double_value: value };
  if (Array.isArray(value)) {
    return { array_value: value.length === 0 ? {} : { values: value.map(anyValueJson) } };
  }
  const entries = Object.entries(value as Record<string, unknown>);
  return { kvlist_value: entries.length === 0 ? {} : { values: entries.map(([key, v]) => ({ key, value: anyValueJson(v) })) } };
}

function keyValues(attributes: Record<string, unknown>): { key: string; value: Record<string, unknown> }[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValueJson(value) }));
}

/** A span as `traces/get` and `batchGet` serve it (empty fields left out, as proto JSON does). */
export function otlpJsonSpan(span: StoredSpan): Record<string, unknown> {
  const status: Record<string, string> = {};
  if (span.status.code !== 'STATUS_CODE_UNSET') status.code = span.status.code;
  if (span.status.message !== '') status.message = span.status.message;
  return {
    trace_id: hexToBase64(span.traceId),
    span_id: hexToBase64(span.spanId),
    ...(span.parentSpanId === null ? {} : { parent_span_id: hexToBase64(span.parentSpanId) }),
    name: span.name,
    start_time_unix_nano: span.startTimeUnixNano,
    end_time_unix_nano: span.endTimeUnixNano,
    attributes: keyValues(span.attributes),
    ...(span.events.length === 0
      ? {}
      : {
          events: span.events.map((event) => ({
            time_unix_nano: event.timeUnixNano,
            name: event.name,
            ...(Object.keys(event.attributes).length === 0 ? {} : { attributes: keyValues(event.attributes) }),
          })),
        }),
    status,
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function asBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  return 0n;
}

/** The spans of an uploaded traces.json, read as MLflow's UI would; undefined when it is not JSON of that shape. */
export function spansFromTracesJson(text: string): StoredSpan[] | undefined {
  const parsed = tryParseJson(text);
  if (parsed === undefined) return undefined;
  const spans = asRecord(parsed.value).spans;
  if (!Array.isArray(spans)) return undefined;
  return spans.map((raw): StoredSpan => {
    const span = asRecord(raw);
    const rawAttributes = asRecord(span.attributes);
    const status = asRecord(span.status);
    return {
      name: String(span.name ?? ''),
      traceId: base64ToHex(span.trace_id),
      spanId: base64ToHex(span.span_id),
      parentSpanId: span.parent_span_id ? base64ToHex(span.parent_span_id) : null,
      startTimeUnixNano: asBigInt(span.start_time_unix_nano),
      endTimeUnixNano: asBigInt(span.end_time_unix_nano),
      status: { code: String(status.code ?? 'STATUS_CODE_UNSET'), message: String(status.message ?? '') },
      attributes: Object.fromEntries(
        Object.entries(rawAttributes).map(([key, value]) => [
          key,
          typeof value === 'string' ? (tryParseJson(value)?.value ?? value) : value,
        ]),
      ),
      rawAttributes,
      events: (Array.isArray(span.events) ? span.events : []).map((rawEvent) => {
        const event = asRecord(rawEvent);
        return { name: String(event.name ?? ''), timeUnixNano: asBigInt(event.time_unix_nano), attributes: asRecord(event.attributes) };
      }),
    };
  });
}
