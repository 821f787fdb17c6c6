import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerApp } from '../../../src/agent/server/server-env.ts';

export interface ListeningApp {
  url: string;
  close(): Promise<void>;
}

/** The app behind a real socket on a free port of 127.0.0.1, as `otel-mlflow serve` runs it. */
export async function listenApp(app: ServerApp): Promise<ListeningApp> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if ('closeAllConnections' in server) server.closeAllConnections();
      await closed;
    },
  };
}
