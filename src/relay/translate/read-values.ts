import type { SpanAttributes, TokenCounts } from './span-facts.ts';

/** JSON.parse that answers undefined instead of throwing: client values are often not JSON. */
export function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** A JSON container sent as text (an OTLP kvlist arrives as its JSON text) decoded; any other value as it is. */
export function decodedValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const first = value.trimStart()[0];
  if (first !== '{' && first !== '[') return value;
  return parseJson(value)?.value ?? value;
}

/**
 * A free-form input or output value as MLflow reads it: JSON text decoded, anything else kept.
 * Empty values count as absent, as in MLflow's translators (an empty `{}` says nothing).
 */
export function contentValue(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return undefined;
  const decoded = typeof value === 'string' ? (parseJson(value)?.value ?? value) : value;
  if (decoded === null || decoded === '') return undefined;
  if (Array.isArray(decoded) && decoded.length === 0) return undefined;
  if (isRecord(decoded) && Object.keys(decoded).length === 0) return undefined;
  return decoded;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringValue(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A token count: a whole number, or its decimal text; anything else is no count. */
function tokenCount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * Usage as MLflow's translators accept it: input and output both known (the total is their sum
 * unless given). One side alone is not usage MLflow would show, so it is left out here too.
 */
export function usageOf(input: unknown, output: unknown, total: unknown): TokenCounts | undefined {
  const inputTokens = tokenCount(input);
  const outputTokens = tokenCount(output);
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  return { input: inputTokens, output: outputTokens, total: tokenCount(total) ?? inputTokens + outputTokens };
}

export function firstString(attributes: SpanAttributes, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = stringValue(attributes[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

export type Flattened = Map<string, unknown>;

/**
 * Flattened lists (`llm.input_messages.0.message.role`, `gen_ai.prompt.1.content`) regrouped: one map
 * of the remaining key suffixes per index, in index order. Works on nested lists too, by calling it
 * again on one item's map.
 */
export function flattenedList(entries: Iterable<[string, unknown]>, prefix: string): Flattened[] {
  const byIndex = new Map<number, Flattened>();
  for (const [key, value] of entries) {
    if (!key.startsWith(prefix)) continue;
    const dot = key.indexOf('.', prefix.length);
    const indexText = dot === -1 ? key.slice(prefix.length) : key.slice(prefix.length, dot);
    if (!/^\d{1,6}$/.test(indexText)) continue;
    const index = Number(indexText);
    let item = byIndex.get(index);
    if (!item) {
      item = new Map();
      byIndex.set(index, item);
    }
    item.set(dot === -1 ? '' : key.slice(dot + 1), value);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
}
