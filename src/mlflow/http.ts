import { parseErrorBody } from '../http-client/error-body.ts';
import { maskSentCredential, pathForDisplay } from '../http-client/redaction.ts';
import { sendRequest, type RawResponse } from '../http-client/send.ts';
import type { RequestTarget } from '../http-client/unreachable.ts';
import { sendWithFreshTokenOnRefusal, type AuthProvider } from '../workspace-auth/auth.ts';
import { MlflowApiError } from './errors.ts';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USER_AGENT = 'otel-mlflow';

/**
 * The most an answer may hold unless a request says otherwise. MLflow's JSON answers are small: a
 * page of 100 trace infos with 1000-character previews is well under 1 MiB, and every list is paged;
 * `/health` and `/version` are a few bytes. Anything past this is not MLflow talking.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/**
 * For artifacts: a trace's spans (get-trace-artifact, a signed traces.json download) and a run's
 * results file. A long agent run with large inputs and outputs reaches tens of MB; this bounds
 * memory, not real traces.
 */
export const ARTIFACT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/**
 * For export answers (`/v1/traces`, StartTraceV3, an artifact upload): empty, an OTLP export
 * response, or one error JSON listing the refused traces of a batch — kilobytes.
 */
export const EXPORT_MAX_RESPONSE_BYTES = 1024 * 1024;

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
  /**
   * The most of the answer's body to read (default DEFAULT_MAX_RESPONSE_BYTES); a longer one is
   * AnswerTooLargeError, raw or not, after reading no more than this.
   */
  maxResponseBytes?: number;
}

export interface MlflowHttp {
  baseUrl: string;
  /**
   * Any status, without throwing (network failures still throw UnreachableError, an answer over
   * its limit AnswerTooLargeError). A 3xx comes back as is, with `location`.
   */
  request(req: MlflowRequest & { raw: true }): Promise<RawResponse>;
  /**
   * Throws MlflowApiError for a non-2xx answer (for a 3xx, naming where it pointed and what that
   * likely means). JSON answers are parsed whatever their Content-Type (get-trace-artifact labels
   * its JSON text/plain); an empty body reads as `{}`; integers beyond 2^53 arrive as bigint.
   */
  request<T = unknown>(req: MlflowRequest): Promise<T>;
}

export interface MlflowHttpOptions {
  baseUrl: string;
  auth: AuthProvider;
  timeoutMs?: number;
  fetch?: typeof fetch;
  userAgent?: string;
  /**
   * Ends every request of this client, in flight or to come, once aborted: a command that stops is
   * not kept alive by a server that never answers.
   */
  signal?: AbortSignal;
}

export function createMlflowHttp(options: MlflowHttpOptions): MlflowHttp {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const auth = options.auth;

  async function send(req: MlflowRequest, target: RequestTarget): Promise<RawResponse> {
    const headers: Record<string, string> = { 'User-Agent': options.userAgent ?? DEFAULT_USER_AGENT };
    let body: Uint8Array | string | undefined = req.body;
    if (req.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(req.json);
    }
    Object.assign(headers, req.headers);
    if (req.auth !== false) Object.assign(headers, await auth.headers());
    return sendRequest(fetchImpl, {
      ...target,
      headers,
      body,
      maxResponseBytes: req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      signal: options.signal,
      expected: MLFLOW_ANSWER,
    });
  }

  async function request(req: MlflowRequest): Promise<unknown> {
    const url = buildUrl(baseUrl, req.path, req.query);
    const target: RequestTarget = {
      method: req.method,
      url,
      shownPath: pathForDisplay(req.path),
      timeoutMs: req.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
    const raw =
      req.auth === false
        ? await send(req, target)
        : await sendWithFreshTokenOnRefusal(
            auth,
            () => send(req, target),
            (a) => a.status,
          );
    if (req.raw) return raw;
    const credentials = req.auth === false ? 'none' : auth.describe();
    if (raw.status < 200 || raw.status >= 300) {
      throw MlflowApiError.fromResponse(req.method, target.shownPath, raw, credentials);
    }
    if (req.responseType === 'text') return raw.text;
    if (raw.text.trim() === '') return {};
    if (raw.json === undefined) throw notJsonError(raw, target, credentials);
    return raw.json;
  }

  return { baseUrl, request: request as MlflowHttp['request'] };
}

const MLFLOW_ANSWER = {
  service: 'MLflow',
  hint: "check that the tracking URI is MLflow's own base URL, not a proxy's error page or another service",
};

function buildUrl(baseUrl: string, path: string, query: MlflowRequest['query']): URL {
  const url = new URL(/^https?:\/\//i.test(path) ? path : `${baseUrl}${path.startsWith('/') ? '' : '/'}${path}`);
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, item);
  }
  return url;
}

/** A 2xx that is not JSON: a login page, an SPA's index.html, something that is not MLflow. */
function notJsonError(raw: RawResponse, target: RequestTarget, credentials: string): MlflowApiError {
  const { detail } = parseErrorBody(raw.status, raw.text);
  const what = detail.startsWith('HTML page') ? `an ${detail}` : detail === 'an HTML page' ? detail : `"${detail}"`;
  return new MlflowApiError({
    method: target.method,
    path: target.shownPath,
    status: raw.status,
    detail: maskSentCredential(what, raw),
    server: raw.headers.get('server') ?? undefined,
    recognised: false,
    credentials,
  });
}
