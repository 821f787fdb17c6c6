import { ExitCode, ExpectedError } from '../errors.ts';

/** One span as MLflow's UI reads it from a trace's `traces.json` artifact. */
export interface TraceSpan {
  name: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  parentSpanId: string | null;
  startTimeNs: bigint;
  endTimeNs: bigint;
  /** `OK`, `ERROR` or `UNSET` (the file's `STATUS_CODE_` prefix removed). */
  statusCode: string;
  /** Values JSON-decoded once (twice where 3.6 double-encoded an object). */
  attributes: Record<string, unknown>;
}

const OTLP_STATUS_NUMBERS: Record<number, string> = { 0: 'UNSET', 1: 'OK', 2: 'ERROR' };
/** Enough for 3.6's double encoding, bounded so a pathological value cannot loop. */
const MAX_EXTRA_DECODES = 3;

/** Reads a `{"spans": [...]}` file as served by get-trace-artifact or a signed download. */
export function decodeTraceArtifact(file: unknown, traceId: string): TraceSpan[] {
  const spans = (file as { spans?: unknown } | null)?.spans;
  if (!Array.isArray(spans)) {
    throw new ExpectedError(`The spans file of ${traceId} is not a traces.json ({"spans": [...]})`, {
      exitCode: ExitCode.readback,
      hint: 'The trace was logged by a client that wrote a malformed traces.json; re-export it.',
    });
  }
  return spans.map((span) => decodeSpan(span as Record<string, unknown>));
}

function decodeSpan(span: Record<string, unknown>): TraceSpan {
  const attributes: Record<string, unknown> = {};
  const raw = span.attributes;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [key, value] of Object.entries(raw)) attributes[key] = decodeAttribute(value);
  }
  const parent = span.parent_span_id;
  return {
    name: String(span.name ?? ''),
    spanId: idToHex(String(span.span_id ?? ''), 8),
    parentSpanId: typeof parent === 'string' && parent !== '' ? idToHex(parent, 8) : null,
    startTimeNs: toBigInt(span.start_time_unix_nano),
    endTimeNs: toBigInt(span.end_time_unix_nano),
    statusCode: statusCodeOf(span.status),
    attributes,
  };
}

/**
 * MLflow writes ids as base64 of the raw bytes; files written by other clients may hold hex
 * (with or without `tr-`). Anything else is returned unchanged for the caller to report.
 */
function idToHex(id: string, bytes: number): string {
  const bare = id.startsWith('tr-') ? id.slice(3) : id;
  if (bare.length === bytes * 2 && /^[0-9a-f]+$/i.test(bare)) return bare.toLowerCase();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(id)) {
    const raw = Buffer.from(id, 'base64');
    if (raw.length === bytes) return raw.toString('hex');
  }
  return id;
}

function decodeAttribute(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  let decoded = parseJson(value);
  if (decoded === undefined) return value;
  for (let i = 0; i < MAX_EXTRA_DECODES && typeof decoded === 'string' && /^\s*[[{]/.test(decoded); i++) {
    const again = parseJson(decoded);
    if (again === undefined) break;
    decoded = again;
  }
  return decoded;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.trunc(value));
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  return 0n;
}

function statusCodeOf(status: unknown): string {
  const code = (status as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'number') return OTLP_STATUS_NUMBERS[code] ?? String(code);
  if (typeof code === 'string' && code !== '') return code.replace(/^STATUS_CODE_/, '');
  return 'UNSET';
}
