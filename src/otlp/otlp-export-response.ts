import { exportResponseType } from './otlp-messages.ts';

export interface ExportAnswer {
  /** Spans the receiver dropped although it answered success (OTLP partial success). */
  rejected: number;
  message?: string;
}

/**
 * Reads the body of a successful OTLP/HTTP export: an `ExportTraceServiceResponse` in protobuf or
 * OTLP/JSON (empty for a full success), or MLflow 3.6's `{"partialSuccess":null}` although labelled
 * protobuf. Undefined for anything else: a page, a proxy's text, a body of another service.
 */
export function isOtlpExportResponse(bytes: Uint8Array, contentType: string): ExportAnswer | undefined {
  if (bytes.length === 0) return { rejected: 0 };
  const text = new TextDecoder().decode(bytes);
  if (/^\s*\{/.test(text)) return fromJson(text);
  if (/json/i.test(contentType)) return undefined;
  // An export response has one field, partial_success (1, length-delimited), and nothing else:
  // bytes of another kind of answer must not pass for it just because a lenient decoder skips them.
  if (bytes[0] !== 0x0a || !spansWholeBody(bytes)) return undefined;
  try {
    const decoded = exportResponseType.toObject(exportResponseType.decode(bytes), { longs: Number, defaults: false }) as {
      partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
    };
    return answerOf(decoded.partialSuccess);
  } catch {
    return undefined;
  }
}

/** Field 1's length varint (after its tag byte) says exactly how long the rest is. */
function spansWholeBody(bytes: Uint8Array): boolean {
  let length = 0;
  let shift = 0;
  let at = 1;
  for (; at < bytes.length && at < 6; at++) {
    const byte = bytes[at]!;
    length += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return at + 1 + length === bytes.length;
  }
  return false;
}

function fromJson(text: string): ExportAnswer | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const keys = Object.keys(json);
  // Only the one field an export response has: anything else is some other service's JSON.
  if (keys.some((key) => key !== 'partialSuccess' && key !== 'partial_success')) return undefined;
  const partial = (json as Record<string, unknown>).partialSuccess ?? (json as Record<string, unknown>).partial_success;
  if (partial === null || partial === undefined) return { rejected: 0 };
  if (typeof partial !== 'object') return undefined;
  const { rejectedSpans, rejected_spans, errorMessage, error_message } = partial as Record<string, unknown>;
  const message = errorMessage ?? error_message;
  return answerOf({
    rejectedSpans: Number(rejectedSpans ?? rejected_spans ?? 0),
    ...(typeof message === 'string' && { errorMessage: message }),
  });
}

function answerOf(partial: { rejectedSpans?: number; errorMessage?: string } | undefined): ExportAnswer | undefined {
  const rejected = Number(partial?.rejectedSpans ?? 0);
  if (!Number.isFinite(rejected) || rejected < 0) return undefined;
  return { rejected, ...(partial?.errorMessage && { message: partial.errorMessage }) };
}
