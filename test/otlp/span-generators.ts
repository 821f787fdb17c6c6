import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Link,
} from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/**
 * Varied spans for the tests of the OTLP encoder and decoder: made by the SDK (several resources and
 * scopes, everything a span can carry) and by hand (values the SDK would not keep), and
 * otlp-transformer's ProtobufTraceSerializer, the reference both are held to.
 */

/** Deterministic: a failure names the seed that made it. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export type Random = () => number;
export const pick = <T>(next: Random, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
export const hex = (next: Random, digits: number) => Array.from({ length: digits }, () => pick(next, [...'0123456789abcdef'])).join('');

const TEXTS = [
  '',
  'chat',
  'é',
  'ünïcödé ✓ 你好 🚀',
  'x'.repeat(127),
  'y'.repeat(128),
  `${'z'.repeat(200)}é`,
  'w'.repeat(20_000),
  `${'v'.repeat(6000)}🚀`,
  'lone \ud800 surrogate',
  JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
];
const NUMBERS = [
  0,
  1,
  -1,
  127,
  128,
  300,
  2 ** 31,
  2 ** 32,
  2 ** 32 + 5,
  -(2 ** 40),
  2 ** 53 - 1,
  2 ** 62,
  2 ** 63,
  -(2 ** 63),
  0.5,
  -2.25,
  1e300,
  Number.NaN,
  Infinity,
  -Infinity,
];

function primitive(next: Random): string | number | boolean {
  const kind = next();
  if (kind < 0.45) return pick(next, TEXTS);
  if (kind < 0.85) return pick(next, NUMBERS);
  return next() < 0.5;
}

/** What the SDK keeps: primitives and homogeneous arrays of them. */
export function sdkValue(next: Random): AttributeValue {
  if (next() > 0.2) return primitive(next);
  const kind = pick(next, ['string', 'number', 'boolean'] as const);
  return Array.from({ length: Math.floor(next() * 4) }, () => {
    const value = primitive(next);
    return typeof value === kind ? value : kind === 'string' ? String(value) : kind === 'number' ? 7 : true;
  }) as AttributeValue;
}

/** What the wire also takes: nested arrays and objects, bytes, empty values. */
export function wireValue(next: Random, depth = 0): unknown {
  const kind = next();
  if (depth > 2 || kind < 0.5) return primitive(next);
  if (kind < 0.6) return new Uint8Array(Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256)));
  if (kind < 0.65) return pick(next, [undefined, null]);
  if (kind < 0.8) return Array.from({ length: Math.floor(next() * 4) }, () => wireValue(next, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, (_, i) => [`k${i}`, wireValue(next, depth + 1)]));
}

export function attributes<T>(next: Random, value: (next: Random) => T, most = 8): Record<string, T> {
  return Object.fromEntries(
    Array.from({ length: Math.floor(next() * most) }, (_, i) => [pick(next, ['a', 'gen_ai.x', '0', '12', `k${i}`, 'ü']) + i, value(next)]),
  );
}

export const reference = (spans: readonly ReadableSpan[]) =>
  Buffer.from(ProtobufTraceSerializer.serializeRequest([...spans]) ?? new Uint8Array());

/** Spans made by the SDK: several providers (resources) and tracers (scopes), everything a span can carry. */
export function sdkSpans(next: Random): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const providers = Array.from(
    { length: 1 + Math.floor(next() * 2) },
    (_, i) =>
      new TracerProvider({
        resource: resourceFromAttributes(
          { 'service.name': `svc-${i}`, ...attributes(next, sdkValue, 4) },
          next() < 0.3 ? { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' } : undefined,
        ),
        spanProcessors: [new SimpleSpanProcessor({ exporter })],
        spanLimits: { attributeCountLimit: next() < 0.2 ? 2 : 128, eventCountLimit: 3, linkCountLimit: 2 },
      }),
  );
  const tracers = providers.flatMap((provider) => [
    provider.getTracer('otel-mlflow'),
    provider.getTracer('other', '1.2.3'),
    provider.getTracer('schema', '2.0.0', { schemaUrl: 'https://example.com/schema' }),
  ]);
  const traceId = hex(next, 32);
  const count = 1 + Math.floor(next() * 6);
  for (let i = 0; i < count; i++) {
    let parent = ROOT_CONTEXT;
    if (next() < 0.4) {
      parent = trace.setSpanContext(ROOT_CONTEXT, {
        traceId,
        spanId: hex(next, 16),
        traceFlags: pick(next, [TraceFlags.SAMPLED, TraceFlags.SAMPLED | 0x80]),
        isRemote: next() < 0.7,
        ...(next() < 0.5 && { traceState: createTraceState('vendor=a,other=b') }),
      });
    }
    const links: Link[] = Array.from({ length: Math.floor(next() * 4) }, () => ({
      context: {
        traceId: hex(next, 32),
        spanId: hex(next, 16),
        traceFlags: TraceFlags.SAMPLED,
        ...(next() < 0.5 && { isRemote: true }),
        ...(next() < 0.3 && { traceState: createTraceState('k=v') }),
      },
      ...(next() < 0.6 && { attributes: attributes(next, sdkValue, 3) }),
      ...(next() < 0.2 && { droppedAttributesCount: 2 }),
    }));
    const start: [number, number] = [1_795_538_125 + Math.floor(next() * 1000), Math.floor(next() * 1e9)];
    const span = pick(next, tracers).startSpan(
      pick(next, TEXTS.slice(0, 7)),
      {
        kind: pick(next, [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]),
        startTime: start,
        links,
        attributes: attributes(next, sdkValue),
      },
      parent,
    );
    for (let e = 0; e < Math.floor(next() * 5); e++) {
      span.addEvent(pick(next, ['exception', 'first token', '']), next() < 0.7 ? attributes(next, sdkValue, 4) : undefined, [
        start[0],
        start[1] + e,
      ]);
    }
    const status = pick(next, [SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR]);
    span.setStatus({ code: status, ...(status === SpanStatusCode.ERROR && next() < 0.7 && { message: pick(next, TEXTS.slice(0, 5)) }) });
    span.end([start[0] + Math.floor(next() * 3), Math.floor(next() * 1e9)]);
  }
  return exporter.getFinishedSpans();
}

/** A finished span as a plain object, with attributes the SDK would have refused. */
export function handMadeSpan(next: Random, resource: ReadableSpan['resource'], scope: ReadableSpan['instrumentationScope']): ReadableSpan {
  const traceId = next() < 0.1 ? hex(next, 32).toUpperCase() : hex(next, 32);
  const spanId = hex(next, 16);
  const traceFlags = pick(next, [0, 1, 3]);
  const parent =
    next() < 0.5 ? { traceId, spanId: hex(next, 16), traceFlags: 1, ...(next() < 0.5 && { isRemote: next() < 0.5 }) } : undefined;
  return {
    name: pick(next, TEXTS),
    kind: pick(next, [0, 1, 2, 3, 4]),
    spanContext: () => ({ traceId, spanId, traceFlags }),
    ...(parent && { parentSpanContext: parent }),
    startTime: [Math.floor(next() * 2 ** 34), Math.floor(next() * 1e9)],
    endTime: [Math.floor(next() * 2 ** 34), Math.floor(next() * 1e9)],
    status: { code: pick(next, [0, 1, 2]), ...(next() < 0.5 && { message: pick(next, TEXTS) }) },
    attributes: attributes(next, (n) => wireValue(n)) as Attributes,
    links: [],
    events: Array.from({ length: Math.floor(next() * 3) }, () => ({
      name: pick(next, TEXTS),
      time: [Math.floor(next() * 2 ** 33), Math.floor(next() * 1e9)] as [number, number],
      ...(next() < 0.7 && { attributes: attributes(next, (n) => wireValue(n)) as Attributes }),
      ...(next() < 0.2 && { droppedAttributesCount: 300 }),
    })),
    duration: [0, 0],
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: pick(next, [0, 0, 1, 200]),
    droppedEventsCount: pick(next, [0, 0, 5]),
    droppedLinksCount: pick(next, [0, 0, 70_000]),
  };
}
