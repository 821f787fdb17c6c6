import type { LocalSpan } from '../spans/local-span.ts';
import type { OtlpAnyValue, OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from './otlp-decode.ts';

export interface ConvertedSpans {
  spans: LocalSpan[];
  /** Spans refused one by one (OTLP partial success): the rest of the request is kept. */
  rejected: number;
  /** Why, each reason once. */
  reasons: string[];
}

/** SpanFlags bits (opentelemetry-proto `trace.proto`): whether the parent's remoteness is known, and its value. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

type AttributeValue = LocalSpan['attributes'][string];
type Scalar = string | number | boolean;

/**
 * Decoded OTLP spans as the store keeps them; spans with unusable ids are counted out, not fatal.
 * `jsonText`: keys whose values are kept as JSON text whatever their kind on the wire (MLflow's
 * object-valued attributes, which go structured over OTLP and are recorded as JSON).
 */
export function toLocalSpans(request: OtlpResourceSpans[], options: { jsonText?: ReadonlySet<string> } = {}): ConvertedSpans {
  const jsonText = options.jsonText ?? NO_KEYS;
  const spans: LocalSpan[] = [];
  const reasons = new Set<string>();
  let rejected = 0;
  for (const resourceSpans of request) {
    const resource = resourceAttributes(resourceSpans.resourceAttributes);
    for (const span of resourceSpans.spans) {
      const problem = idProblem(span);
      if (problem === undefined) {
        spans.push(toLocalSpan(span, resource, jsonText));
      } else {
        rejected += 1;
        reasons.add(problem);
      }
    }
  }
  return { spans, rejected, reasons: [...reasons] };
}

function isZero(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

function idProblem(span: OtlpSpan): string | undefined {
  if (span.traceId.length !== 16 || isZero(span.traceId)) return 'trace id must be 16 bytes, not all zero';
  if (span.spanId.length !== 8 || isZero(span.spanId)) return 'span id must be 8 bytes, not all zero';
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8) return 'parent span id must be empty or 8 bytes';
  return undefined;
}

function toLocalSpan(span: OtlpSpan, resource: LocalSpan['resource'], jsonText: ReadonlySet<string>): LocalSpan {
  // Some SDKs send a root's parent as eight zero bytes rather than leaving it empty.
  const hasParent = span.parentSpanId.length === 8 && !isZero(span.parentSpanId);
  const parentIsRemote = hasParent && (span.flags & HAS_IS_REMOTE) !== 0 && (span.flags & IS_REMOTE) !== 0;
  const statusCode = span.status.code === 1 || span.status.code === 2 ? span.status.code : 0;
  return {
    traceId: span.traceId.toString('hex'),
    spanId: span.spanId.toString('hex'),
    parentSpanId: hasParent ? span.parentSpanId.toString('hex') : null,
    ...(parentIsRemote && { parentIsRemote: true as const }),
    name: span.name,
    kind: sdkSpanKind(span.kind),
    startTimeUnixNano: span.startTimeUnixNano.toString(),
    endTimeUnixNano: span.endTimeUnixNano.toString(),
    status: { code: statusCode, ...(span.status.message !== '' && { message: span.status.message }) },
    attributes: attributes(span.attributes, jsonText),
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: event.timeUnixNano.toString(),
      attributes: attributes(event.attributes),
    })),
    resource,
    scope: { name: span.scope.name, ...(span.scope.version !== '' && { version: span.scope.version }) },
  };
}

/** The wire counts SPAN_KIND_UNSPECIFIED as 0 and INTERNAL as 1; the SDK's SpanKind starts at INTERNAL = 0. */
function sdkSpanKind(wireKind: number): number {
  return wireKind >= 1 && wireKind <= 5 ? wireKind - 1 : 0;
}

const NO_KEYS: ReadonlySet<string> = new Set();

function attributes(keyValues: OtlpKeyValue[], jsonText = NO_KEYS): Record<string, AttributeValue> {
  const converted: Record<string, AttributeValue> = {};
  for (const { key, value } of keyValues) {
    const attribute = jsonText.has(key) ? JSON.stringify(jsonValue(value)) : attributeValue(value);
    if (attribute === undefined) continue;
    // Defined, not assigned: a client's key `__proto__` stays an attribute instead of a prototype.
    if (key === '__proto__')
      Object.defineProperty(converted, key, { value: attribute, enumerable: true, writable: true, configurable: true });
    else converted[key] = attribute;
  }
  return converted;
}

function resourceAttributes(keyValues: OtlpKeyValue[]): LocalSpan['resource'] {
  // An array (e.g. process.command_args) cannot be a resource value in the store: kept as JSON text.
  return Object.fromEntries(
    Object.entries(attributes(keyValues)).map(([key, value]) => [key, Array.isArray(value) ? JSON.stringify(value) : value]),
  );
}

/** An attribute as the SDK could have recorded it; structured values the SDK cannot hold become JSON text. */
function attributeValue(value: OtlpAnyValue): AttributeValue | undefined {
  if (value.kind === 'empty') return undefined;
  if (value.kind === 'kvlist') return JSON.stringify(jsonValue(value));
  if (value.kind !== 'array') return scalar(value);
  const items = value.values.map((item) => (item.kind === 'array' || item.kind === 'kvlist' ? undefined : scalar(item)));
  const first = items[0];
  const homogeneous = items.every((item) => item !== undefined && typeof item === typeof first);
  return homogeneous ? (items as string[] | number[] | boolean[]) : JSON.stringify(jsonValue(value));
}

/**
 * A scalar the SDK can hold: 64-bit ints beyond 2^53 and non-finite doubles (which JSON cannot
 * carry) as text, bytes as base64. Undefined for an empty value.
 */
function scalar(value: OtlpAnyValue): Scalar | undefined {
  switch (value.kind) {
    case 'string':
    case 'bool':
      return value.value;
    case 'double':
      return Number.isFinite(value.value) ? value.value : String(value.value);
    case 'int':
      return safeInteger(value.value);
    case 'bytes':
      return value.value.toString('base64');
    default:
      return undefined;
  }
}

function safeInteger(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

function jsonValue(value: OtlpAnyValue): unknown {
  switch (value.kind) {
    case 'array':
      return value.values.map(jsonValue);
    case 'kvlist':
      return Object.fromEntries(value.values.map((kv) => [kv.key, jsonValue(kv.value)]));
    case 'empty':
      return null;
    default:
      return scalar(value);
  }
}
