import type { OtlpResourceSpans } from './otlp-decode.ts';
import type { OtlpBatch, OtlpIngest, OtlpIngestResult } from './otlp-ingest.ts';
import { toLocalSpans, type ConvertedSpans } from './to-local-spans.ts';
import { Utf8Repairs } from './utf8-repairs.ts';
import { errorMessage } from '../errors.ts';

/** What one export request comes to, before either transport puts it in its own terms. */
export type ExportOutcome =
  /** `rejected` spans (with `errorMessage`) go back as partial success; 0 means full success. */
  | { kind: 'success'; rejected: number; errorMessage: string }
  /** Undecodable, or refused whole by the ingest: the client must not retry it as is. */
  | { kind: 'invalid'; message: string }
  | { kind: 'busy' | 'unavailable'; retryAfterSeconds: number; message: string }
  /** The ingest failed unexpectedly; the client gets no detail. */
  | { kind: 'internal' };

export const INTERNAL_ERROR_MESSAGE = 'internal error while storing the spans';

/**
 * Decodes a request, keeps its valid spans and hands them to the ingest. `decode` may throw
 * anything on hostile input: every throw there is the client's malformed request. It notes in
 * `repairs` the strings it had to repair; the client hears of them with its success.
 */
export async function receiveExport(
  decode: (repairs: Utf8Repairs) => OtlpResourceSpans[],
  ingest: OtlpIngest,
  context: Omit<OtlpBatch, 'spans' | 'repairedStrings'>,
): Promise<ExportOutcome> {
  const repairs = new Utf8Repairs();
  let converted: ConvertedSpans;
  try {
    converted = toLocalSpans(decode(repairs));
  } catch (error) {
    return { kind: 'invalid', message: `could not decode the request: ${errorMessage(error)}` };
  }
  const { spans, rejected, reasons } = converted;
  // With nothing rejected, the message is a warning, as the OTLP specification allows.
  const partialMessage = [rejected === 0 ? '' : `${rejected} span(s) rejected: ${reasons.join('; ')}`, repairs.describe()]
    .filter(Boolean)
    .join('; ');
  if (spans.length === 0) return { kind: 'success', rejected, errorMessage: partialMessage };
  let result: OtlpIngestResult;
  try {
    result = await ingest({ spans, repairedStrings: repairs.count, ...context });
  } catch {
    return { kind: 'internal' };
  }
  switch (result?.kind) {
    case 'accepted':
      return { kind: 'success', rejected, errorMessage: partialMessage };
    case 'rejected':
      return { kind: 'invalid', message: result.message };
    case 'busy':
    case 'unavailable':
      return { kind: result.kind, retryAfterSeconds: retryAfter(result.retryAfterSeconds), message: result.message };
    default:
      return { kind: 'internal' };
  }
}

/** Whole seconds, as Retry-After and RetryInfo carry them; at least one, since an immediate retry is no pushing back. */
function retryAfter(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 1 ? Math.ceil(seconds) : 1;
}
