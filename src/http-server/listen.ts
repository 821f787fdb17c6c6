import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { ExitCode, ExpectedError, errorMessage } from '../errors.ts';
import { capConnections, type ConnectionCounts } from './connection-cap.ts';
import { divertHttp2 } from './divert-http2.ts';

/** What a port allows its clients, so that slow or idle ones cannot use up the process's file descriptors. */
export interface HttpLimits {
  /** From a connection's start (or the end of its previous request) to the end of its request headers. */
  headersTimeoutMs: number;
  /** From the start of a request to the end of its body. */
  requestTimeoutMs: number;
  /** How long a connection may wait idle for its next request. */
  keepAliveTimeoutMs: number;
  /** How often the timeouts above are enforced. */
  checkIntervalMs: number;
  maxConnections: number;
}

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The flag that chooses another port, named when this one cannot be had: `--port (or PORT)`. */
  portFlag: string;
  /** Timeouts and a connection cap; without them Node's own timeouts and no cap. */
  limits?: HttpLimits;
  /** Connections speaking HTTP/2 in plain text (gRPC) on this port go here, their first bytes put back; without it they get HTTP/1.1's error. */
  http2?: (socket: Socket) => void;
}

export interface ListeningServer {
  /** `http://127.0.0.1:4318`: the address bound, with the port chosen when asked for 0. */
  url: string;
  /** How the connections stand (the cap, when there is none, is never reached). */
  connections(): ConnectionCounts;
  /**
   * Stops accepting and closes idle connections; requests in progress have `graceMs` to finish, or
   * until `interrupt` aborts. Then `whenGraceOver` runs (a shutdown guard answers what is still
   * running) and the connections still open are cut, once those answers had time to leave; without
   * it, at once.
   */
  close(graceMs: number, options?: { whenGraceOver?: () => void; interrupt?: AbortSignal | undefined }): Promise<void>;
}

/** Time for the answers given at the end of the grace period to reach their clients before the sockets close. */
const ANSWER_FLUSH_MS = 200;
/** Node's own limit for a request's headers, which bounds a connection that sends nothing when no limits are given. */
const NODE_HEADERS_TIMEOUT_MS = 60_000;

type FetchHandler = Parameters<typeof createAdaptorServer>[0]['fetch'];

/** A Hono app on a port of `host`, as every command that serves HTTP runs it. */
export async function listen(app: { fetch: FetchHandler }, options: ListenOptions): Promise<ListeningServer> {
  const { limits } = options;
  const server = createAdaptorServer({
    fetch: app.fetch,
    ...(limits && {
      serverOptions: {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: limits.checkIntervalMs,
      },
    }),
  }) as Server; // HTTP/1.1: no createServer of http2 or https is passed.
  if (options.http2) divertHttp2(server, options.http2, limits?.headersTimeoutMs ?? NODE_HEADERS_TIMEOUT_MS);
  // Before listening: no connection may arrive uncounted.
  const connections = capConnections(server, limits?.maxConnections ?? Number.POSITIVE_INFINITY);
  server.listen(options.port, options.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    throw cannotListen(options.host, options.port, error, options.portFlag);
  }
  const address = server.address() as AddressInfo;
  return {
    url: `http://${bracketed(address.address)}:${address.port}`,
    connections,
    async close(graceMs, { whenGraceOver, interrupt } = {}) {
      const closed = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      let cut: NodeJS.Timeout | undefined;
      const endGrace = () => {
        clearTimeout(graceOver);
        interrupt?.removeEventListener('abort', endGrace);
        if (!whenGraceOver) return server.closeAllConnections();
        whenGraceOver();
        cut = setTimeout(() => server.closeAllConnections(), ANSWER_FLUSH_MS);
      };
      // A client that keeps its connection busy would hold the close open for ever.
      const graceOver = setTimeout(endGrace, graceMs);
      if (interrupt?.aborted) endGrace();
      else interrupt?.addEventListener('abort', endGrace, { once: true });
      await closed;
      clearTimeout(graceOver);
      clearTimeout(cut);
      interrupt?.removeEventListener('abort', endGrace);
    },
  };
}

/** An IPv6 address as a URL's host takes it: `[::1]`. */
export function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const HOST_HINT =
  '--host takes an address of this machine: 127.0.0.1 (this machine only, the default), 0.0.0.0 (every interface), or one interface’s address';

/** Why a server could not listen, with the flag that fixes it: a port in use is not a host that does not exist. */
export function cannotListen(host: string, port: number, error: unknown, portFlag: string): ExpectedError {
  const code = (error as NodeJS.ErrnoException).code;
  const at = `cannot listen on ${host}:${port}`;
  const usage = (why: string, hint: string) => new ExpectedError(`${at}: ${why}`, { exitCode: ExitCode.usage, hint, cause: error });
  if (code === 'EADDRINUSE') return usage('the port is in use', `choose another port with ${portFlag}, or stop what is using it`);
  if (code === 'EACCES') return usage('permission denied', `ports below 1024 need privileges: choose a higher one with ${portFlag}`);
  if (code === 'EADDRNOTAVAIL') return usage(`${host} is not an address of this machine`, HOST_HINT);
  if (code !== undefined && DNS_CODES.has(code))
    return usage(`${host} is neither an address nor a name that resolves (${code})`, HOST_HINT);
  return usage(errorMessage(error), `check --host and ${portFlag}`);
}
