import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ExitCode, ExpectedError } from '../errors.ts';
import type { AppRuntime } from '../runtime/app-runtime.ts';
import { VERSION } from '../version.ts';
import { createApp } from './app.ts';

export interface HttpServerOptions {
  port: number;
  host: string;
  authToken?: string;
  corsOrigins?: readonly string[];
  log?: (line: string) => void;
}

export interface RunningHttpServer {
  url: string;
  /** Stops accepting, lets in-flight requests finish, and cuts what is still open at the deadline. */
  close(deadlineMs: number): Promise<void>;
}

/** The agent's HTTP API on a port, for `serve` and for `suite --spawn`. */
export async function startHttpServer(runtime: AppRuntime, options: HttpServerOptions): Promise<RunningHttpServer> {
  const started = Date.now();
  const app = createApp({
    agent: runtime.agent,
    tracer: runtime.tracer,
    info: () => ({
      status: 'ok',
      version: VERSION,
      tracing: {
        destination: runtime.target.description,
        route: runtime.target.route,
        ...(runtime.target.experiment && { experiment: runtime.target.experiment }),
        // So `suite --verify` reads them back from this store, whatever --store-dir the server got.
        ...(runtime.target.route === 'local' && { store_dir: runtime.config.storeDir.value }),
      },
      llm: { provider: runtime.llm.provider, model: runtime.llm.model },
      uptime_seconds: Math.round((Date.now() - started) / 1000),
    }),
    traceLink: runtime.traceLink,
    ...(options.authToken && { authToken: options.authToken }),
    ...(options.corsOrigins && { corsOrigins: options.corsOrigins }),
    ...(options.log && { log: options.log }),
  });

  const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host });
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ExpectedError(
      `cannot listen on ${options.host}:${options.port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}`,
      { exitCode: ExitCode.usage, hint: 'choose another port with --port (or PORT), or stop what is using it' },
    );
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close(deadlineMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      const timer = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, deadlineMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
