import { AnswerTooLargeError, readBodyWithin } from '../util/bounded-body.ts';
import { maskSentCredential, rememberAuthorization } from './redaction.ts';
import { isRedirect, readRedirect, type RedirectCause } from './redirect.ts';
import { toUnreachableError, type RequestTarget } from './unreachable.ts';

export interface RawResponse {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  /** The body decoded as UTF-8. */
  text: string;
  /** The body parsed as JSON (integers beyond 2^53 as bigint), or undefined when it is not JSON. */
  json: unknown;
  /**
   * A 3xx only (redirects are never followed): its Location resolved against the request URL, as
   * scheme, host and path — no query, fragment or user info, which may carry secrets. Undefined when
   * the answer gave no usable Location.
   */
  location?: string;
  /** A 3xx only: what the redirect most likely means (a login page, https, anything else). */
  redirectCause?: RedirectCause;
}

export interface OutgoingRequest extends RequestTarget {
  headers: Record<string, string>;
  body?: Uint8Array | string | undefined;
  /** A longer answer is AnswerTooLargeError, after reading no more than this. */
  maxResponseBytes: number;
  /** Ends the request early (besides its timeout). */
  signal?: AbortSignal | undefined;
  /** Who was meant to answer and what to check, as an over-long answer's error says. */
  expected: { service: string; hint: string };
}

/**
 * One request, one answer, whatever its status: network failures become UnreachableError, a 3xx
 * comes back as is with `location`, and the credential sent is remembered so errors built from the
 * answer can mask it.
 */
export async function sendRequest(fetchImpl: typeof fetch, request: OutgoingRequest): Promise<RawResponse> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  let raw: RawResponse;
  try {
    const res = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      // A redirect is never the service's answer: followed, an SSO proxy's login page passed for success.
      redirect: 'manual',
      signal: request.signal ? AbortSignal.any([timeout, request.signal]) : timeout,
    });
    const bytes = await readBodyWithin(res, request.maxResponseBytes, () => tooLarge(res, request));
    const text = new TextDecoder().decode(bytes);
    raw = { status: res.status, headers: res.headers, bytes, text, json: parseJsonOrUndefined(text) };
  } catch (error) {
    throw toUnreachableError(error, request);
  }
  rememberAuthorization(raw, request.headers.Authorization);
  if (isRedirect(raw.status)) {
    const { location, cause } = readRedirect(raw.headers.get('location'), request.url);
    raw.redirectCause = cause;
    if (location !== undefined) raw.location = maskSentCredential(location, raw);
  }
  return raw;
}

function tooLarge(res: Response, request: OutgoingRequest): AnswerTooLargeError {
  return new AnswerTooLargeError({
    origin: request.url.origin,
    method: request.method,
    path: request.url.pathname,
    status: res.status,
    contentType: res.headers.get('content-type') ?? undefined,
    limitBytes: request.maxResponseBytes,
    expected: request.expected.service,
    hint: request.expected.hint,
  });
}

/**
 * JSON.parse, except that integers beyond 2^53 (span timestamps in nanoseconds) become bigint
 * from their source text instead of silently losing digits.
 */
function parseJsonOrUndefined(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)
        ? BigInt(context.source)
        : value,
    );
  } catch {
    return undefined;
  }
}
