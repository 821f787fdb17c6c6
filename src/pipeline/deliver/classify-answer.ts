import type { RawResponse } from '../../mlflow/http.ts';
import { describeErrorBody } from '../../mlflow/errors.ts';
import type { DeliveryOutcome } from '../destinations/destination.ts';

/**
 * Answers that say nothing against the trace: the server, a proxy or the credentials need time or a
 * fix (a token refresh is tried by the HTTP client first), so the traces wait on disk and are tried
 * again. 501 is not here: a file store will not grow an OTLP route by waiting.
 */
function isRetryable(status: number): boolean {
  return status === 401 || status === 403 || status === 408 || status === 425 || status === 429 || (status >= 500 && status !== 501);
}

export function classifyAnswer(response: RawResponse): DeliveryOutcome {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const answer = describeErrorBody(response);
  if (!isRetryable(status)) return { kind: 'refused', status, answer };
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return { kind: 'retry', status, answer, ...(retryAfterMs !== undefined && { retryAfterMs }) };
}

/** No answer at all (refused connection, reset, DNS, timeout): the server may be back soon. */
export function classifyFailure(error: unknown): Extract<DeliveryOutcome, { kind: 'retry' }> {
  return { kind: 'retry', answer: error instanceof Error ? error.message : String(error) };
}

/** `Retry-After` as seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
