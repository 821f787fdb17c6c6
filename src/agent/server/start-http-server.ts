import { listen } from '../../http-server/listen.ts';
import type { AppRuntime } from '../agent-runtime.ts';
import { VERSION } from '../../version.ts';
import type { ResolvedDestination } from '../../destination/resolved-destination.ts';
import type { HealthInfo } from '../api-schemas.ts';
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
  /** Stops accepting, lets in-flight requests finish, and cuts what is still open at the deadline or when `interrupt` aborts. */
  close(deadlineMs: number, interrupt?: AbortSignal): Promise<void>;
}

/** Where the traces stand, read from the store, so a health check shows a backlog and its cause. */
function deliveryHealth(runtime: AppRuntime): Pick<HealthInfo['tracing'], 'store_dir' | 'delivery'> {
  const pipeline = runtime.tracing.pipeline;
  if (!pipeline) return {};
  const { delivered, lastFailure, storeTrouble } = pipeline.stats;
  const refused = pipeline.notStored;
  const problems = { ...(refused > 0 && { not_stored: refused }), ...(storeTrouble && { store_problem: storeTrouble }) };
  // So `suite --verify` reads local traces back from this store, whatever --store-dir the server got.
  if (!pipeline.destinationKey)
    return {
      store_dir: pipeline.store.dir,
      ...(Object.keys(problems).length > 0 && { delivery: { pending: 0, dead: 0, delivered: 0, last_error: null, ...problems } }),
    };
  const counts = pipeline.counts();
  return {
    store_dir: pipeline.store.dir,
    delivery: { pending: counts.pending, dead: counts.dead, delivered, last_error: lastFailure ?? null, ...problems },
  };
}

/** The destination as it stands: resolved, or where traces wait for and why. */
function destinationHealth(runtime: AppRuntime): Omit<HealthInfo['tracing'], 'store_dir' | 'delivery'> {
  const { destination } = runtime;
  const state = destination.state();
  const resolved = destination.resolved();
  const experiment = destination.experiment();
  return {
    destination: destination.describe(),
    kind: destination.target?.kind ?? 'local',
    route: resolved ? routeOf(resolved) : state.kind === 'local' ? 'local' : 'pending',
    ...(experiment && { experiment }),
    ...(state.kind === 'failing' && { problem: { since: state.since, reason: state.problem } }),
  };
}

function routeOf(destination: ResolvedDestination): string {
  return destination.kind === 'mlflow' || destination.kind === 'databricks' ? destination.route.via : destination.kind;
}

/** The agent's HTTP API on a port, for `serve` and for `suite --spawn`. */
export async function startHttpServer(runtime: AppRuntime, options: HttpServerOptions): Promise<RunningHttpServer> {
  const started = Date.now();
  const graceOver = new AbortController();
  const app = createApp({
    shuttingDown: graceOver.signal,
    agent: runtime.agent,
    tracer: runtime.tracer,
    info: () => ({
      status: 'ok',
      version: VERSION,
      tracing: { ...destinationHealth(runtime), ...deliveryHealth(runtime) },
      llm: { provider: runtime.llm.provider, model: runtime.llm.model },
      uptime_seconds: Math.round((Date.now() - started) / 1000),
    }),
    traceLink: runtime.traceLink,
    ...(options.authToken && { authToken: options.authToken }),
    ...(options.corsOrigins && { corsOrigins: options.corsOrigins }),
    ...(options.log && { log: options.log }),
    ...(runtime.tracing.pipeline && { refusing: () => runtime.tracing.pipeline?.notAcceptingBecause }),
  });

  const listening = await listen(app, { host: options.host, port: options.port, portFlag: '--port (or PORT)' });
  return {
    url: listening.url,
    // Requests still running when the grace period ends answer 503 first; the connections go once those answers are out.
    close: (deadlineMs, interrupt) => listening.close(deadlineMs, { whenGraceOver: () => graceOver.abort(), interrupt }),
  };
}
