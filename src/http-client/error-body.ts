import { maskSentCredential } from './redaction.ts';
import { describeRedirect, isRedirect } from './redirect.ts';
import type { RawResponse } from './send.ts';

/** What a server said in a failed answer, reduced to one readable line. */
export interface ErrorBody {
  /** MLflow/Databricks `error_code`, or OAuth's `error`. */
  errorCode?: string;
  detail: string;
  /**
   * The body has a shape MLflow (or Databricks) produces: its JSON errors, FastAPI's, its auth
   * app's plain-text answers, Werkzeug's 404 page. Anything else came from something in front.
   */
  recognised: boolean;
}

const MAX_DETAIL_CHARS = 500;

/** Servers that MLflow runs under; a `Server` header naming anything else belongs to a proxy. */
export function isMlflowServerHeader(server: string | undefined): boolean {
  return server !== undefined && /^(uvicorn|gunicorn|werkzeug|waitress)\b/i.test(server.trim());
}

/**
 * Reads the body only: Flask labels even MLflow's plain-text auth answers text/html. `service` is what
 * was meant to answer, as a 404 page's question names it.
 */
export function parseErrorBody(status: number, text: string, service = 'an MLflow server'): ErrorBody {
  const trimmed = text.trim();
  if (trimmed === '') return { detail: 'empty body', recognised: false };
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const fromJson = parseJsonError(trimmed);
    if (fromJson) return fromJson;
  }
  if (/^<(\?xml|Error>)/.test(trimmed)) return parseStorageXml(trimmed);
  if (trimmed.startsWith('<')) return parseHtml(status, trimmed, service);
  // MLflow's basic-auth app answers 401/403 with these plain-text bodies.
  const recognised = /^You are not authenticated\b/.test(trimmed) || trimmed === 'Permission denied';
  return { detail: clip(firstLine(trimmed)), recognised };
}

function parseJsonError(text: string): ErrorBody | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(body)) return { detail: clip(text), recognised: false };
  if (typeof body.error_code === 'string') {
    const message = typeof body.message === 'string' ? firstLine(body.message) : '';
    return { errorCode: body.error_code, detail: clip(message || 'no message'), recognised: true };
  }
  if (typeof body.detail === 'string') return { detail: clip(body.detail), recognised: true };
  if (Array.isArray(body.detail)) return { detail: clip(renderValidationErrors(body.detail)), recognised: true };
  if (typeof body.error === 'string') {
    const description = typeof body.error_description === 'string' ? body.error_description : body.error;
    return { errorCode: body.error, detail: clip(description), recognised: true };
  }
  if (typeof body.message === 'string') return { detail: clip(body.message), recognised: false };
  return { detail: clip(text), recognised: false };
}

/** FastAPI's 422 list, e.g. `header x-mlflow-experiment-id: field required`. */
function renderValidationErrors(items: unknown[]): string {
  return items
    .map((item) => {
      if (!isRecord(item)) return String(item);
      const loc = Array.isArray(item.loc) ? item.loc.map(String) : [];
      const where = loc.length > 1 ? `${loc[0]} ${loc.slice(1).join('.')}` : (loc[0] ?? '');
      const msg = typeof item.msg === 'string' ? item.msg : 'invalid';
      return where ? `${where}: ${msg}` : msg;
    })
    .join('; ');
}

function parseHtml(status: number, html: string, service: string): ErrorBody {
  // Werkzeug's page: MLflow's Flask app answers unknown paths with it.
  const recognised = /The requested URL was not found on the server/.test(html);
  if (status === 404) {
    return { detail: `not found (HTML 404 page: is this ${service} / the right path?)`, recognised };
  }
  const title = textOf(html, 'title') ?? textOf(html, 'h1');
  return { detail: title ? `HTML page "${clip(title)}"` : 'an HTML page', recognised };
}

/** S3, Azure Blob and GCS answer signed-URL requests with `<Error><Code>…</Code><Message>…</Message></Error>`. */
function parseStorageXml(xml: string): ErrorBody {
  const code = textOf(xml, 'Code');
  const message = textOf(xml, 'Message');
  return { ...(code ? { errorCode: code } : {}), detail: clip(message ?? code ?? 'an XML error'), recognised: false };
}

function textOf(html: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`, 'i').exec(html);
  const text = match?.[1]?.replace(/\s+/g, ' ').trim();
  return text || undefined;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}

function clip(text: string): string {
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A failed answer in one line, e.g. `HTTP 400: Invalid Content-Type: ...`, for export records; a
 * redirect as `redirected (302) to https://sso.example.com/login: a login proxy in front of MLflow?`.
 */
export function describeErrorBody(response: RawResponse, service?: string): string {
  if (isRedirect(response.status)) return maskSentCredential(describeRedirectOf(response), response);
  const body = parseErrorBody(response.status, response.text, service);
  const code = body.errorCode ? ` ${body.errorCode}` : '';
  return `HTTP ${response.status}${code}: ${maskSentCredential(body.detail, response)}`;
}

export function describeRedirectOf(response: RawResponse): string {
  return describeRedirect(response.status, response.location, response.redirectCause);
}
