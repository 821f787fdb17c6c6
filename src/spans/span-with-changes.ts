import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

type SpanChanges = Partial<Pick<ReadableSpan, 'name' | 'status' | 'attributes' | 'events'>>;

/** The same finished span with some of what it carries replaced: what an exporter sends when it must mask or leave out some of it. */
export function withChanges(span: ReadableSpan, changes: SpanChanges): ReadableSpan {
  return {
    name: changes.name ?? span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: changes.status ?? span.status,
    attributes: changes.attributes ?? span.attributes,
    links: span.links,
    events: changes.events ?? span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** The same finished span with other attributes; the very span when they are its own. */
export function withAttributes(span: ReadableSpan, attributes: Attributes): ReadableSpan {
  return attributes === span.attributes ? span : withChanges(span, { attributes });
}
