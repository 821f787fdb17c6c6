import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { withChanges } from './span-with-changes.ts';

/**
 * The span with `mask` applied to every text it carries: its name, status message, attributes and
 * events (an exception event's message and stack). The very same span when no text changes: a span
 * without a secret costs one look at its strings and no copy.
 */
export function maskSpanText(span: ReadableSpan, mask: (text: string) => string): ReadableSpan {
  const changes = (item: unknown): boolean =>
    typeof item === 'string'
      ? mask(item) !== item
      : Array.isArray(item) && item.some((element) => typeof element === 'string' && mask(element) !== element);
  const anyIn = (values: Attributes | undefined): boolean => values !== undefined && Object.values(values).some(changes);
  const touched =
    changes(span.name) ||
    changes(span.status.message) ||
    anyIn(span.attributes) ||
    span.events.some((event) => changes(event.name) || anyIn(event.attributes));
  if (!touched) return span;

  const value = <T>(item: T): T => {
    if (typeof item === 'string') return mask(item) as T;
    if (Array.isArray(item)) return item.map((element: unknown) => (typeof element === 'string' ? mask(element) : element)) as T;
    return item;
  };
  const record = (values: Attributes): Attributes => {
    const out: Attributes = {};
    for (const [key, item] of Object.entries(values)) out[key] = value(item);
    return out;
  };
  return withChanges(span, {
    name: mask(span.name),
    status: span.status.message === undefined ? span.status : { ...span.status, message: mask(span.status.message) },
    attributes: record(span.attributes),
    events: span.events.map((event) => ({
      ...event,
      name: mask(event.name),
      ...(event.attributes && { attributes: record(event.attributes) }),
    })),
  });
}
