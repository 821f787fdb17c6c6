import { createServer, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeOtlpProtobuf } from '../../src/otlp/otlp-decode.ts';
import { startFakeMlflow, type FakeMlflow, type MlflowVersion } from './fake-mlflow.ts';

/** What the proxy does with the next requests. */
export type ProxyMode =
  | { kind: 'pass' }
  | (Fault & {
      /** Only requests for this path (query aside) meet the fault; the others pass. Default: every request. */
      path?: string;
    });

type Fault =
  /** Accepts the request and never answers (a hung server or proxy). */
  | { kind: 'hang' }
  /**
   * Answers this status (e.g. 503 or 429 with Retry-After) instead of forwarding, `times` times
   * (default: until changed); by default a short text body, with `html` a web server's error page (a
   * proxy mid-deploy), or exactly the body, type and Server header given.
   */
  | {
      kind: 'answer';
      status: number;
      retryAfter?: string;
      times?: number;
      html?: boolean;
      body?: string | Buffer;
      contentType?: string;
      server?: string;
    }
  /**
   * An SSO proxy whose session expired: answers `status` (default 302) with `Location: location`, and
   * a request for that location's path gets a 200 HTML sign-in page.
   */
  | { kind: 'redirect'; location: string; status?: number }
  /**
   * Answers `status` with a body of `bytes` bytes (64 KiB chunks, made as the client reads, so a test
   * can offer a gigabyte without holding it), optionally announced by Content-Length.
   */
  | { kind: 'huge'; status: number; bytes: number; contentType?: string; declareLength?: boolean };

/** How a streamed huge answer ended: how much of it was written before the connection closed. */
export interface HugeAnswerEnd {
  bytesWritten: number;
  /** The whole body was written (the client did not hang up early). */
  complete: boolean;
}

export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  /** As sent (lower-case names). */
  headers: IncomingHttpHeaders;
  status: number | 'hung';
  body: Buffer;
  /** A `huge` answer: settles when its connection closes. */
  hugeAnswer?: Promise<HugeAnswerEnd>;
}

const HUGE_CHUNK = Buffer.alloc(64 * 1024, '<p>Service Unavailable</p>\n');
const SIGN_IN_PAGE =
  '<!doctype html><html><head><title>Sign in</title></head><body><form action="/login" method="post"></form></body></html>';

export interface FaultyProxy {
  url: string;
  mode: ProxyMode;
  requests: ProxiedRequest[];
  /**
   * Drops every connection, open or new, before an answer, as when MLflow is stopped. The port stays
   * taken: let go, another test's server could take it before up().
   */
  down(): Promise<void>;
  /** Answers again, as when MLflow is started again. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a fake MLflow that can go down, come back, hang, answer
 * 503/429, redirect to a sign-in page or answer with a huge body — the failures a real server and the
 * proxies in front of it show under load, a restart or an expired SSO session.
 */
export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();
  const requests: ProxiedRequest[] = [];
  let port = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record: ProxiedRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      status: 'hung',
      body: Buffer.concat(chunks),
    };
    requests.push(record);
    const mode = proxy.mode;
    const path = record.path.split('?', 1)[0];
    const signIn = mode.kind === 'redirect' && new URL(mode.location, proxy.url).pathname === path;
    if (mode.kind !== 'pass' && mode.path !== undefined && path !== mode.path && !signIn) return forward(req, res, record);
    if (mode.kind === 'hang') {
      hung.add(res);
      return;
    }
    if (mode.kind === 'answer') {
      if (mode.times !== undefined && --mode.times <= 0) proxy.mode = { kind: 'pass' };
      record.status = mode.status;
      res.writeHead(mode.status, {
        'content-type': mode.contentType ?? (mode.html ? 'text/html' : 'text/plain'),
        ...(mode.server !== undefined && { server: mode.server }),
        ...(mode.retryAfter !== undefined && { 'retry-after': mode.retryAfter }),
      });
      res.end(mode.body ?? (mode.html ? errorPage(mode.status) : `proxy says ${mode.status}`));
      return;
    }
    if (mode.kind === 'redirect') {
      record.status = signIn ? 200 : (mode.status ?? 302);
      res.writeHead(record.status, signIn ? { 'content-type': 'text/html' } : { location: mode.location, 'content-type': 'text/html' });
      res.end(signIn ? SIGN_IN_PAGE : '<html><body>Found</body></html>');
      return;
    }
    if (mode.kind === 'huge') {
      record.status = mode.status;
      record.hugeAnswer = streamHugeAnswer(res, mode);
      return;
    }
    await forward(req, res, record);
  };

  const forward = async (req: IncomingMessage, res: ServerResponse, record: ProxiedRequest) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
    const answer = await fetch(`${target}${record.path}`, {
      method: record.method,
      headers,
      ...(record.body.length > 0 && { body: record.body }),
    });
    const body = Buffer.from(await answer.arrayBuffer());
    record.status = answer.status;
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'content-encoding') out[name] = value;
    });
    res.writeHead(answer.status, { ...out, 'content-length': String(body.length) });
    res.end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(599);
      res.end(String(error));
    });
  });
  let stopped = false;
  server.on('connection', (socket) => {
    if (stopped) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const dropAll = () => {
    for (const res of hung) res.destroy();
    hung.clear();
    for (const socket of sockets) socket.destroy();
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      port = (server.address() as AddressInfo).port;
      resolve();
    });
  });

  const proxy: FaultyProxy = {
    url: `http://127.0.0.1:${port}`,
    mode: { kind: 'pass' },
    requests,
    down: async () => {
      stopped = true;
      dropAll();
    },
    up: async () => {
      stopped = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropAll();
      }),
  };
  return proxy;
}

/** A fake MLflow of this version behind a faulty proxy: commands are given the proxy's URL, tests read the fake's store. */
export async function startMlflowBehindProxy(
  version: MlflowVersion = '3.14.1.dev0',
): Promise<{ server: FakeMlflow; proxy: FaultyProxy; close(): Promise<void> }> {
  const server = await startFakeMlflow({ version });
  const proxy = await startFaultyProxy(server.url);
  return {
    server,
    proxy,
    close: async () => {
      await proxy.close();
      await server.close();
    },
  };
}

/** Trace ids (hex) the proxy saw MLflow take on `/v1/traces` (a 200 to an OTLP protobuf post): one entry per trace per request. */
export function tracesAccepted(proxy: Pick<FaultyProxy, 'requests'>): string[] {
  return proxy.requests
    .filter((r) => r.path === '/v1/traces' && r.status === 200)
    .map((r) => (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body))
    .flatMap((body) => [...new Set(decodeOtlpProtobuf(body).flatMap((rs) => rs.spans.map((s) => s.traceId.toString('hex'))))]);
}

/** nginx's error page, as a proxy in front of MLflow shows it. */
function errorPage(status: number): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

function streamHugeAnswer(res: ServerResponse, mode: Extract<Fault, { kind: 'huge' }>): Promise<HugeAnswerEnd> {
  let written = 0;
  const ended = new Promise<HugeAnswerEnd>((resolve) =>
    res.on('close', () => resolve({ bytesWritten: written, complete: res.writableFinished })),
  );
  res.writeHead(mode.status, {
    'content-type': mode.contentType ?? 'text/html',
    ...(mode.declareLength && { 'content-length': String(mode.bytes) }),
  });
  const pump = () => {
    while (written < mode.bytes && !res.destroyed) {
      const chunk = HUGE_CHUNK.subarray(0, Math.min(HUGE_CHUNK.length, mode.bytes - written));
      written += chunk.length;
      // Waits for the client to read before making more: the body never exists as a whole.
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
  return ended;
}
