import type { LocalSpan } from '../../spans/local-span.ts';

/** Spans by id, the newer copy winning, in start-time order with a parent before its children on ties. */
export function mergeSpans(previous: readonly LocalSpan[], incoming: readonly LocalSpan[]): LocalSpan[] {
  const byId = new Map<string, LocalSpan>();
  for (const span of [...previous, ...incoming]) byId.set(span.spanId, span);
  const depth = (span: LocalSpan) => (span.parentSpanId === null ? 0 : 1);
  return [...byId.values()].sort((a, b) => {
    const startA = BigInt(a.startTimeUnixNano);
    const startB = BigInt(b.startTimeUnixNano);
    return startA === startB ? depth(a) - depth(b) : startA < startB ? -1 : 1;
  });
}
