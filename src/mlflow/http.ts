import { sendWithFreshTokenOnRefusal, type AuthProvider } from './auth.ts';
import { parseErrorBody } from './error-body.ts';
import { MlflowApiError } from './errors.ts';
import { toUnreachableError, type RequestTarget } from './network-failure.ts';
import { maskSentCredential, pathForDisplay, rememberAuthorization } from './redaction.ts';

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USER_AGENT = 'otel-mlflow';

export interface MlflowRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to baseUrl, or an absolute URL (a signed storage URL). */
  path: string;
  /** Arrays become repeated parameters (`trace_ids=a&trace_ids=b`). */
  query?: Record<string, string | string[]>;
  json?: unknown;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Send the AuthProvider's headers (default true). */
  auth?: boolean;
  /** Answer `RawResponse` for any status instead of parsing and throwing. */
  raw?: boolean;
  /** How to read a successful body (default 'json'; 'text' for `/version`, `/health`). */
  responseType?: 'json' | 'text';
}

export interface RawResponse {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  /** The body decoded as UTF-8. */
  text: string;
  /** The body parsed as JSON (exact integers, as request() does), or undefined when it is not JSON. */
  json: unknown;
}

export interface MlflowHttp {
  baseUrl: string;
  /** Any status, without throwing (network failures still throw UnreachableError). */
  request(req: MlflowRequest & { raw: true }): Promise<RawResponse>;
  /**
   * Throws MlflowApiError for a non-2xx answer. JSON answers are parsed whatever their
   * Content-Type (get-trace-artifact labels its JSON text/plain); an empty body reads as `{}`;
   * integers beyond 2^53 arrive as bigint.
   */
  request<T = unknown>(req: MlflowRequest): Promise<T>;
}

export interface MlflowHttpOptions {
  baseUrl: string;
  auth: AuthProvider;
  timeoutMs?: number;
  fetch?: typeof fetch;
  userAgent?: string;
}

interface Answer {
  raw: RawResponse;
  redirectedTo: URL | undefined;
}

export function createMlflowHttp(options: MlflowHttpOptions): MlflowHttp {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const auth = options.auth;

  async function send(req: MlflowRequest, target: RequestTarget): Promise<Answer> {
    const headers: Record<string, string> = { 'User-Agent': options.userAgent ?? DEFAULT_USER_AGENT };
    let body: Uint8Array | string | undefined = req.body;
    if (req.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(req.json);
    }
    Object.assign(headers, req.headers);
    if (req.auth !== false) Object.assign(headers, await auth.headers());
    let answer: Answer;
    try {
      const res = await fetchImpl(target.url, {
        method: req.method,
        headers,
        body,
        signal: AbortSignal.timeout(target.timeoutMs),
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const text = new TextDecoder().decode(bytes);
      answer = {
        raw: { status: res.status, headers: res.headers, bytes, text, json: parseJsonOrUndefined(text) },
        redirectedTo: res.redirected ? new URL(res.url) : undefined,
      };
    } catch (error) {
      throw toUnreachableError(error, target);
    }
    rememberAuthorization(answer.raw, headers.Authorization);
    return answer;
  }

  async function request(req: MlflowRequest): Promise<unknown> {
    const url = buildUrl(baseUrl, req.path, req.query);
    const target: RequestTarget = {
      method: req.method,
      url,
      shownPath: pathForDisplay(req.path),
      timeoutMs: req.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
    const answer =
      req.auth === false ? await send(req, target) : await sendWithFreshTokenOnRefusal(auth, () => send(req, target), (a) => a.raw.status);
    const { raw } = answer;
    if (req.raw) return raw;
    const credentials = req.auth === false ? 'none' : auth.describe();
    if (raw.status < 200 || raw.status >= 300) {
      throw MlflowApiError.fromResponse(req.method, target.shownPath, raw, credentials);
    }
    if (req.responseType === 'text') return raw.text;
    if (raw.text.trim() === '') return {};
    if (raw.json === undefined) throw notJsonError(answer, target, credentials);
    return raw.json;
  }

  return { baseUrl, request: request as MlflowHttp['request'] };
}

function buildUrl(baseUrl: string, path: string, query: MlflowRequest['query']): URL {
  const url = new URL(/^https?:\/\//i.test(path) ? path : `${baseUrl}${path.startsWith('/') ? '' : '/'}${path}`);
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, item);
  }
  return url;
}

/** A 2xx that is not JSON: a login page, an SPA's index.html, something that is not MLflow. */
function notJsonError({ raw, redirectedTo }: Answer, target: RequestTarget, credentials: string): MlflowApiError {
  const { detail } = parseErrorBody(raw.status, raw.text);
  const what = detail.startsWith('HTML page') ? `an ${detail}` : detail === 'an HTML page' ? detail : `"${detail}"`;
  const redirect = redirectedTo ? ` after a redirect to ${redirectedTo.origin}${redirectedTo.pathname}` : '';
  return new MlflowApiError({
    method: target.method,
    path: target.shownPath,
    status: raw.status,
    detail: maskSentCredential(`${what}${redirect}`, raw),
    server: raw.headers.get('server') ?? undefined,
    recognised: false,
    credentials,
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
