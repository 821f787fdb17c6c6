import type { ServerApp } from '../../../src/agent/server/server-env.ts';
import { listen } from '../../../src/http-server/listen.ts';

export interface ListeningApp {
  url: string;
  close(): Promise<void>;
}

/** The app behind a real socket on a free port of 127.0.0.1, as `otel-mlflow serve` runs it. */
export async function listenApp(app: ServerApp): Promise<ListeningApp> {
  const server = await listen(app, { host: '127.0.0.1', port: 0, portFlag: '--port' });
  return { url: server.url, close: () => server.close(0) };
}
