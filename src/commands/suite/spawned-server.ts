import type { LoadConfigOptions } from '../../config/types.ts';
import { startAppRuntime, type AppRuntime } from '../../agent/agent-runtime.ts';
import { startHttpServer, type RunningHttpServer } from '../../agent/server/start-http-server.ts';
import { FLUSH_DEADLINE_MS } from '../../runtime/start-tracing.ts';
import type { PipelineReport } from '../../pipeline/trace-pipeline.ts';

/** Every question has its answer when the server stops, so only stragglers need time to close. */
const SPAWNED_DRAIN_MS = 2_000;

export interface SpawnedServer {
  url: string;
  runtime: AppRuntime;
  /** Stops the server, then flushes every trace; says what was exported. */
  stop(): Promise<PipelineReport | undefined>;
}

/** `serve` inside this process for one run, on a free loopback port. */
export async function spawnServer(configOptions: Omit<LoadConfigOptions, 'purpose'>): Promise<SpawnedServer> {
  // MLflow down: the suite still runs, and its traces wait on disk like its scores.
  const runtime = await startAppRuntime({ config: configOptions, origin: 'suite' });
  let server: RunningHttpServer;
  try {
    server = await startHttpServer(runtime, { port: 0, host: '127.0.0.1' });
  } catch (error) {
    await runtime.shutdown(0);
    throw error;
  }
  return {
    url: server.url,
    runtime,
    async stop() {
      await server.close(SPAWNED_DRAIN_MS);
      return runtime.shutdown(FLUSH_DEADLINE_MS);
    },
  };
}
