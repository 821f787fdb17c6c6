import { inStartOrder } from '../../destination/encoded-trace.ts';
import type { LocalSpan } from '../../spans/local-span.ts';

/** Spans by id, the newer copy winning, in start-time order with a parent before its children on ties. */
export function mergeSpans(previous: readonly LocalSpan[], incoming: readonly LocalSpan[]): LocalSpan[] {
  const byId = new Map<string, LocalSpan>();
  for (const span of [...previous, ...incoming]) byId.set(span.spanId, span);
  return inStartOrder([...byId.values()]);
}
