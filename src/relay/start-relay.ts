import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResolvedConfig } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import { createOtlpHttpHandler } from '../otlp/otlp-http-receiver.ts';
import type { AssemblyHold, StateCounts } from '../pipeline/store/trace-store.ts';
import { TracePipeline, type PipelineEvent, type PipelineReport } from '../pipeline/trace-pipeline.ts';
import { VERSION } from '../version.ts';
import { createRelayIngest, type RelayCounters } from './relay-ingest.ts';
import { RelayRoutes, type RouteState } from './relay-routes.ts';

export interface RelayOptions {
  config: ResolvedConfig;
  host: string;
  /** OTLP/HTTP; 0 picks a free port. */
  port: number;
  /** OTLP/gRPC; 0 picks a free port, null turns it off. */
  grpcPort: number | null;
  /** Required as `Authorization: Bearer …` on OTLP requests (HTTP and gRPC) when set. */
  authToken?: string;
  hold?: AssemblyHold;
  /** How long start-up waits for the destination before listening anyway (traces then wait on disk). */
  resolveWaitMs?: number;
  onEvent?: (event: PipelineEvent) => void;
}

export interface RelayHealth {
  status: 'ok';
  version: string;
  receivers: { http: string; grpc: string | null };
  store_dir: string;
  received: { requests: number; spans: number; rejected_requests: number; deferred_requests: number };
  /** Traces of the relay's destinations by delivery state, whoever stored them. */
  traces: StateCounts;
  /** Delivered and refused for good by this relay since it started. */
  delivered: number;
  dead: number;
  destinations: RouteState[];
  last_error: { at: string; status?: number; answer: string } | null;
  last_rejection: { at: string; message: string } | null;
  uptime_seconds: number;
}

export interface RunningRelay {
  httpUrl: string;
  grpcAddress: string | null;
  health(): RelayHealth;
  /** Stops receiving, writes what was received, delivers within the deadline; the rest stays pending on disk. */
  close(deadlineMs: number): Promise<{ report: PipelineReport; counters: RelayCounters; traces: StateCounts; destinations: RouteState[] }>;
}

/**
 * SDKs send spans as they end: a trace is held from delivery until its root arrived and nothing came
 * for `quietMs`, or `maxWaitMs` after its first spans (a root that never arrives).
 */
export const DEFAULT_HOLD: AssemblyHold = { quietMs: 2_000, maxWaitMs: 5 * 60_000 };
const START_RESOLVE_WAIT_MS = 5_000;
/** Requests in flight at shutdown finish within this (they wait only for a group commit). */
const HTTP_CLOSE_GRACE_MS = 5_000;

/** The relay: OTLP receivers (HTTP and gRPC) in front of the one trace pipeline. */
export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const started = Date.now();
  const { config } = options;
  const pipeline = new TracePipeline({
    storeDir: config.storeDir.value,
    storeOptions: { maxBytes: config.storeMaxBytes.value },
    auth: config.auth,
    origin: 'relay',
    deliverInBackground: true,
    ...(options.onEvent && { onEvent: options.onEvent }),
  });
  const connection = connectToTracking(config);
  const routes = new RelayRoutes({
    config,
    ...(connection && { http: connection.http }),
    onResolved: (destination) => pipeline.addDestination(destination),
  });
  const counters: RelayCounters = { requests: 0, spans: 0, rejectedRequests: 0, deferredRequests: 0 };
  const ingest = createRelayIngest({ pipeline, routes, hold: options.hold ?? DEFAULT_HOLD, counters });

  let http: Awaited<ReturnType<typeof listenHttp>> | undefined;
  let grpc: Awaited<ReturnType<typeof import('../otlp/otlp-grpc-receiver.ts').startOtlpGrpcReceiver>> | undefined;
  try {
    routes.resume(pipeline.store.pendingDestinations());
    await routes.start(options.resolveWaitMs ?? START_RESOLVE_WAIT_MS);
    const otlp = createOtlpHttpHandler({ ingest, ...(options.authToken && { token: options.authToken }) });
    http = await listenHttp(options.host, options.port, (req, res) => {
      if (otlp(req, res)) return;
      answerOther(req, res, health);
    });
    if (options.grpcPort !== null) {
      const { startOtlpGrpcReceiver } = await import('../otlp/otlp-grpc-receiver.ts');
      grpc = await startOtlpGrpcReceiver({ ingest, host: options.host, port: options.grpcPort, ...(options.authToken && { token: options.authToken }) }).catch(
        (error: unknown) => {
          throw listenError(options.host, options.grpcPort!, error, '--grpc-port (or --grpc-port off)');
        },
      );
    }
  } catch (error) {
    routes.stop();
    await http?.close();
    await pipeline.shutdown(0);
    throw error;
  }

  const grpcAddress = grpc ? `${bracketed(options.host)}:${grpc.port}` : null;
  const traceCounts = (): StateCounts => {
    const total: StateCounts = { local: 0, pending: 0, delivered: 0, dead: 0 };
    const keys = routes.states().map((route) => route.key);
    for (const counts of keys.length > 0 ? keys.map((key) => pipeline.store.counts(key)) : [pipeline.store.counts()]) {
      for (const state of Object.keys(total) as (keyof StateCounts)[]) total[state] += counts[state];
    }
    return total;
  };
  function health(): RelayHealth {
    const stats = pipeline.stats;
    return {
      status: 'ok',
      version: VERSION,
      receivers: { http: `${http!.url}/v1/traces`, grpc: grpcAddress },
      store_dir: pipeline.store.dir,
      received: {
        requests: counters.requests,
        spans: counters.spans,
        rejected_requests: counters.rejectedRequests,
        deferred_requests: counters.deferredRequests,
      },
      traces: traceCounts(),
      delivered: stats.delivered,
      dead: stats.dead,
      destinations: routes.states(),
      last_error: stats.lastFailure ?? null,
      last_rejection: counters.lastProblem ?? null,
      uptime_seconds: Math.round((Date.now() - started) / 1000),
    };
  }

  return {
    httpUrl: http.url,
    grpcAddress,
    health,
    async close(deadlineMs) {
      // Receivers first: every request answered "accepted" is in the store before the pipeline closes.
      await Promise.all([http!.close(), grpc?.close()]);
      routes.stop();
      // Everything answered "accepted" is committed by now (the receivers waited for it).
      pipeline.store.releaseHolds();
      await pipeline.flush(deadlineMs);
      const traces = traceCounts();
      return { report: await pipeline.shutdown(0), counters, traces, destinations: routes.states() };
    },
  };
}

function answerOther(req: IncomingMessage, res: ServerResponse, health: () => RelayHealth): void {
  const path = new URL(req.url ?? '/', 'http://relay').pathname;
  if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    const body = JSON.stringify(health());
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: `${req.method} is not allowed on /; GET it for the relay's health` }));
    return;
  }
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: `no route ${path}: the relay takes OTLP traces at POST /v1/traces, and shows its health at GET /` }));
}

async function listenHttp(host: string, port: number, handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handle);
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    throw listenError(host, port, error, '--port');
  }
  const address = server.address() as AddressInfo;
  return {
    url: `http://${bracketed(address.address)}:${address.port}`,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      // A client that keeps its connection busy would hold the close open for ever.
      const cut = setTimeout(() => server.closeAllConnections(), HTTP_CLOSE_GRACE_MS);
      await closed;
      clearTimeout(cut);
    },
  };
}

function listenError(host: string, port: number, error: unknown, flag: string): ExpectedError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ExpectedError(`cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}`, {
    exitCode: ExitCode.usage,
    hint: `choose another port with ${flag}, or stop what is using it`,
  });
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
