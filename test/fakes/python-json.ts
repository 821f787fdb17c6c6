/**
 * JSON as MLflow's Python server writes it. `python` is `json.dumps` defaults (", " and ": "
 * separators, what MLflow stores in attributes and metadata it computes itself); `pretty` is
 * Flask's `message_to_json` (indent 2); `compact` is FastAPI's JSONResponse. BigInts are written
 * as exact integers, because span timestamps in nanoseconds exceed 2^53.
 */
export type JsonStyle = 'python' | 'pretty' | 'compact';

export function dumpJson(value: unknown, style: JsonStyle = 'python'): string {
  return write(value, style, '');
}

function write(value: unknown, style: JsonStyle, indent: string): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'NaN';
  if (typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  const inner = `${indent}  `;
  const open = style === 'pretty' ? `\n${inner}` : '';
  const close = style === 'pretty' ? `\n${indent}` : '';
  const comma = style === 'python' ? ', ' : style === 'pretty' ? `,\n${inner}` : ',';
  const colon = style === 'compact' ? ':' : ': ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${open}${value.map((item) => write(item, style, inner)).join(comma)}${close}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const parts = entries.map(([key, v]) => `${JSON.stringify(key)}${colon}${write(v, style, inner)}`);
  return `{${open}${parts.join(comma)}${close}}`;
}

/** JSON.parse that keeps integers beyond 2^53 exact (as BigInt). Throws on invalid JSON. */
function parseJsonExact(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}

/** `JSON.parse` that answers `undefined` instead of throwing. */
export function tryParseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: parseJsonExact(text) };
  } catch {
    return undefined;
  }
}
