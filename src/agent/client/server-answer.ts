import { describeRedirect, readRedirect } from '../../http-client/redirect.ts';
import { AnswerTooLargeError, readBodyWithin } from '../../util/bounded-body.ts';
import { describeNetworkFailure, networkFailureOf } from '../../util/network-failure.ts';
import { parseJson } from './read-answer-stream.ts';
import { errorMessage } from '../../errors.ts';

/** Why a request to the server got no HTTP answer, in words (DNS, refused, TLS, timeout…). */
export function describeFetchFailure(error: unknown, url: URL, timeoutMs: number): string {
  const failure = networkFailureOf(error);
  if (failure) return describeNetworkFailure(failure, url, timeoutMs);
  return `cannot reach ${url.origin}: ${errorMessage(error)}`;
}

/** An answer of the server longer than the client reads: not what `otel-mlflow serve` sends. */
export function serverAnswerTooLarge(url: URL, method: string, response: Response, limitBytes: number): AnswerTooLargeError {
  return new AnswerTooLargeError({
    origin: url.origin,
    method,
    path: url.pathname,
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    limitBytes,
    expected: 'otel-mlflow serve',
  });
}

/** An answer's JSON (undefined when it is not JSON), reading at most `limitBytes` of it. */
export async function readServerJson(url: URL, method: string, response: Response, limitBytes: number): Promise<unknown> {
  const bytes = await readBodyWithin(response, limitBytes, () => serverAnswerTooLarge(url, method, response, limitBytes));
  return parseJson(new TextDecoder().decode(bytes));
}

/** `serve` never redirects, so a redirect names where it pointed and what is likely in front (a login proxy). */
export function describeServerRedirect(url: URL, response: Response): string {
  const { location, cause } = readRedirect(response.headers.get('location'), url);
  return describeRedirect(response.status, location, cause, 'otel-mlflow serve');
}
