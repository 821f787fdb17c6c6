import { TraceFlags, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { InstrumentationScope } from '@opentelemetry/core';
import { getOrInsert } from '../util/get-or-insert.ts';
import { scopeKey, type LocalSpan } from './local-span.ts';

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * The stored spans as SDK spans with the same ids, times and attributes, so the exporters can send
 * them as if they had just ended. A parent counts as remote only while it is not in the trace: once
 * the other process's spans were merged in, the trace is one tree.
 */
export function toReadableSpans(spans: readonly LocalSpan[], resources = new Map<string, Resource>()): ReadableSpan[] {
  const spanIds = new Set(spans.map((span) => span.spanId));
  // The OTLP serializer groups spans by resource identity: one object per distinct resource, so a
  // batch of many traces shares the map.
  const resourceOf = (attributes: LocalSpan['resource']): Resource =>
    getOrInsert(resources, JSON.stringify(attributes), () => resourceFromAttributes(attributes));
  // One scope object per name and version, as one tracer's spans share theirs: the serializer groups by it.
  const scopes = new Map<string, InstrumentationScope>();
  const scopeOf = (scope: LocalSpan['scope']): InstrumentationScope =>
    getOrInsert(scopes, scopeKey(scope), () => ({ name: scope.name, ...(scope.version !== undefined && { version: scope.version }) }));
  return spans.map((span): ReadableSpan => {
    const context: SpanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED };
    const parent: SpanContext | undefined =
      span.parentSpanId === null
        ? undefined
        : {
            traceId: span.traceId,
            spanId: span.parentSpanId,
            traceFlags: TraceFlags.SAMPLED,
            ...(span.parentIsRemote && !spanIds.has(span.parentSpanId) && { isRemote: true }),
          };
    const start = BigInt(span.startTimeUnixNano);
    const end = BigInt(span.endTimeUnixNano);
    return {
      name: span.name,
      kind: span.kind,
      spanContext: () => context,
      ...(parent && { parentSpanContext: parent }),
      startTime: nanosToHr(start),
      endTime: nanosToHr(end),
      status: { code: span.status.code, ...(span.status.message !== undefined && { message: span.status.message }) },
      attributes: span.attributes,
      links: [],
      events: span.events.map((event) => ({
        name: event.name,
        time: nanosToHr(BigInt(event.timeUnixNano)),
        attributes: event.attributes as Attributes,
      })),
      duration: nanosToHr(end > start ? end - start : 0n),
      ended: true,
      resource: resourceOf(span.resource),
      instrumentationScope: scopeOf(span.scope),
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

function nanosToHr(nanos: bigint): HrTime {
  return [Number(nanos / NANOS_PER_SECOND), Number(nanos % NANOS_PER_SECOND)];
}
