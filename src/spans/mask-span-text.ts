import type { LocalSpan } from './local-span.ts';

/**
 * The span with `mask` applied to every text it carries: its name, status message, attributes and
 * events (an exception event's message and stack). The very same span when no text changes: a span
 * without a secret costs one look at its strings and no copy.
 */
export function maskSpanText(span: LocalSpan, mask: (text: string) => string): LocalSpan {
  const changes = (item: unknown): boolean =>
    typeof item === 'string'
      ? mask(item) !== item
      : Array.isArray(item) && item.some((element) => typeof element === 'string' && mask(element) !== element);
  const anyIn = (values: Record<string, unknown>): boolean => Object.values(values).some(changes);
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
  const record = <T extends Record<string, unknown>>(values: T): T => {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(values)) out[key] = value(item);
    return out as T;
  };
  return {
    ...span,
    name: mask(span.name),
    status: span.status.message === undefined ? span.status : { ...span.status, message: mask(span.status.message) },
    attributes: record(span.attributes),
    events: span.events.map((event) => ({ ...event, name: mask(event.name), attributes: record(event.attributes) })),
  };
}
