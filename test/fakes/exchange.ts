import { gunzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from './listen.ts';

/** One request as a fake saw it, and the status it answered. */
export interface RecordedRequest {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  status: number;
  bodyBytes: number;
  /** The body as received (decompressed when gzip), only where the fake keeps bodies. */
  body?: Buffer;
}

export interface Exchange {
  method: string;
  /** Path without query string. */
  pathname: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type ExchangeHandler = (exchange: Exchange) => Reply | Promise<Reply>;

/** Reads each request whole, lets `handler` answer it, and records both in `log` (with the body when `keepBodies`). */
export function serveRecorded(log: RecordedRequest[], handler: ExchangeHandler, options: { keepBodies?: boolean } = {}): RequestHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const exchange: Exchange = { method: req.method ?? 'GET', pathname: url.pathname, query: url.searchParams, headers, body };
    const reply = await handler(exchange);
    const kept = options.keepBodies ? { body: headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body } : {};
    log.push({ method: exchange.method, path: req.url ?? '/', headers, status: reply.status, bodyBytes: body.length, ...kept });
    const payload = reply.body ?? '';
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(payload)) });
    res.end(payload);
  };
}

export function jsonReply(status: number, body: string, extraHeaders: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', ...extraHeaders }, body };
}

export function textReply(status: number, body: string, contentType = 'text/plain; charset=utf-8'): Reply {
  return { status, headers: { 'content-type': contentType }, body };
}
