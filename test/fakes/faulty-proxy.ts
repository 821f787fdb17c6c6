import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with the next requests. */
export type ProxyMode =
  | { kind: 'pass' }
  /** Accepts the request and never answers (a hung server or proxy). */
  | { kind: 'hang' }
  /** Answers this status (e.g. 503 or 429 with Retry-After) instead of forwarding, `times` times (default: until changed). */
  | { kind: 'answer'; status: number; retryAfter?: string; times?: number };

export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  status: number | 'hung';
  body: Buffer;
}

export interface FaultyProxy {
  url: string;
  mode: ProxyMode;
  requests: ProxiedRequest[];
  /** Stops listening: connections are refused, as when MLflow is stopped. */
  down(): Promise<void>;
  /** Listens again on the same port, as when MLflow is started again. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a fake MLflow that can go down, come back, hang, or answer
 * 503/429 — the failures a real server and the proxies in front of it show under load or a restart.
 */
export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();
  const requests: ProxiedRequest[] = [];
  let port = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record: ProxiedRequest = { at: Date.now(), method: req.method ?? 'GET', path: req.url ?? '/', status: 'hung', body: Buffer.concat(chunks) };
    requests.push(record);
    const mode = proxy.mode;
    if (mode.kind === 'hang') {
      hung.add(res);
      return;
    }
    if (mode.kind === 'answer') {
      if (mode.times !== undefined && --mode.times <= 0) proxy.mode = { kind: 'pass' };
      record.status = mode.status;
      res.writeHead(mode.status, { 'content-type': 'text/plain', ...(mode.retryAfter !== undefined && { 'retry-after': mode.retryAfter }) });
      res.end(`proxy says ${mode.status}`);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
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
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listenOn = (wanted: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(wanted, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const res of hung) res.destroy();
      hung.clear();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  await listenOn(0);

  const proxy: FaultyProxy = {
    url: `http://127.0.0.1:${port}`,
    mode: { kind: 'pass' },
    requests,
    down: stop,
    up: () => listenOn(port),
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
  return proxy;
}
