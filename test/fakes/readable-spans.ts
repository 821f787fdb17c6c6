import type { Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeOtlpProtobuf } from '../../src/otlp/otlp-decode.ts';
import { toLocalSpans } from '../../src/otlp/to-local-spans.ts';
import type { LocalSpan } from '../../src/spans/local-span.ts';

/**
 * ReadableSpans with ids and times of the test's choosing (also malformed ones, e.g. an empty
 * span id), turned into OTLP bodies by the real OpenTelemetry serializers.
 */
export interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Attributes;
  /** 0 unset, 1 ok, 2 error. */
  statusCode?: 0 | 1 | 2;
  statusMessage?: string;
  /** Milliseconds since the epoch. Default 1795538125077. */
  startMs?: number;
  durationMs?: number;
  events?: { name: string; attributes?: Attributes; offsetMs?: number }[];
  resource?: Attributes;
}

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

function context(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: 1 };
}

export function readableSpan(spec: SpanSpec): ReadableSpan {
  const start = spec.startMs ?? 1_795_538_125_077;
  const end = start + (spec.durationMs ?? 5);
  const span = {
    name: spec.name,
    kind: 0,
    spanContext: () => context(spec.traceId, spec.spanId),
    parentSpanContext: spec.parentSpanId === undefined ? undefined : context(spec.traceId, spec.parentSpanId),
    startTime: hrTime(start),
    endTime: hrTime(end),
    status: { code: spec.statusCode ?? 0, ...(spec.statusMessage === undefined ? {} : { message: spec.statusMessage }) },
    attributes: spec.attributes ?? {},
    links: [],
    events: (spec.events ?? []).map((event) => ({
      name: event.name,
      time: hrTime(start + (event.offsetMs ?? 0)),
      attributes: event.attributes ?? {},
    })),
    duration: hrTime(end - start),
    ended: true,
    resource: resourceFromAttributes(spec.resource ?? { 'service.name': 'fake-test' }),
    instrumentationScope: { name: 'fake-test' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
  return span as unknown as ReadableSpan;
}

export function otlpProtobuf(spans: ReadableSpan[]): Buffer {
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array());
}

export function otlpJson(spans: ReadableSpan[]): Buffer {
  return Buffer.from(JsonTraceSerializer.serializeRequest(spans) ?? new Uint8Array());
}

/** SDK spans as the relay sees them: sent as OTLP protobuf, decoded and read back into stored spans. */
export function asRelayed(spans: ReadableSpan[]): LocalSpan[] {
  return toLocalSpans(decodeOtlpProtobuf(otlpProtobuf(spans))).spans;
}
