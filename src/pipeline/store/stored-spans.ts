import type { LocalSpan } from '../../spans/local-span.ts';

/**
 * A trace's spans as the `spans` column keeps them (JSON text); undefined when the text is damaged
 * (changed by hand, or by a disk fault) or holds no span.
 */
export function parseStoredSpans(text: string): LocalSpan[] | undefined {
  try {
    const spans = JSON.parse(text) as unknown;
    return Array.isArray(spans) && spans.length > 0 ? (spans as LocalSpan[]) : undefined;
  } catch {
    return undefined;
  }
}
