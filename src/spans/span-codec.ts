import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { LocalSpan } from './local-span.ts';

/** An SDK span as the store keeps it: plain JSON, exact nanosecond times as decimal strings. */
export function toLocalSpan(span: ReadableSpan): LocalSpan {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  const scope = span.instrumentationScope;
  return {
    traceId: context.traceId.toLowerCase(),
    spanId: context.spanId.toLowerCase(),
    parentSpanId: parent ? parent.spanId.toLowerCase() : null,
    ...(parent?.isRemote === true && { parentIsRemote: true as const }),
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: hrToNanos(span.startTime).toString(),
    endTimeUnixNano: hrToNanos(span.endTime).toString(),
    status: { code: span.status.code, ...(span.status.message && { message: span.status.message }) },
    attributes: definedAttributes(span.attributes) as LocalSpan['attributes'],
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: hrToNanos(event.time).toString(),
      attributes: definedAttributes(event.attributes ?? {}),
    })),
    resource: scalarAttributes(span.resource.attributes),
    scope: { name: scope.name, ...(scope.version && { version: scope.version }) },
  };
}

function definedAttributes(attributes: Attributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined && value !== null) out[key] = value;
  return out;
}

/** Resource attributes are scalars in practice; anything else would not survive as a resource key. */
function scalarAttributes(attributes: Attributes): LocalSpan['resource'] {
  const out: LocalSpan['resource'] = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  return out;
}

export function hrToNanos([seconds, nanos]: HrTime): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}
