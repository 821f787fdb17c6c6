import { maskSecrets, rememberedSecrets } from '../config/configured-secrets.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import type { StateCounts } from '../pipeline/store/trace-reads.ts';
import type { AssemblyHold } from '../pipeline/store/trace-writes.ts';
import { TracePipeline, type PipelineEvent, type PipelineReport } from '../pipeline/trace-pipeline.ts';
import type { ResolvedDestination } from '../destination/resolved-destination.ts';
import type { ConnectionCounts } from '../http-server/connection-cap.ts';
import { bracketed, cannotListen, listen, type HttpLimits, type ListeningServer } from '../http-server/listen.ts';
import { VERSION } from '../version.ts';
import { DESTINATION_START_WAIT_MS } from '../destination/background-resolution.ts';
import { createRelayApp } from './relay-app.ts';
import { createRelayIngest, turnedAwayCounts, type RelayCounters } from './relay-ingest.ts';
import type { OtlpIngest } from '../otlp/otlp-ingest.ts';
import { grpcBehindHttp } from '../otlp/grpc-behind-http.ts';
import { RelayRoutes, type RouteState } from './relay-routes.ts';

export interface RelayOptions {
  config: ResolvedConfig;
  host: string;
  /** OTLP/HTTP; 0 picks a free port. */
  port: number;
  /** OTLP/gRPC on a port of its own; 0 picks a free port, null turns it off. The OTLP/HTTP port takes gRPC too. */
  grpcPort: number | null;
  /** Required as `Authorization: Bearer …` on OTLP requests (HTTP and gRPC) when set. */
  authToken?: string;
  hold?: AssemblyHold;
  /** False: spans are stored and sent without message content, whatever the app put in them. */
  captureContent?: boolean;
  /** How long start-up waits for the destination before listening anyway (traces then wait on disk). */
  resolveWaitMs?: number;
  onEvent?: (event: PipelineEvent) => void;
  /** A route resolved (the configured one, one a client named by id, one a service.name maps to): where its traces go, experiment named. */
  onRouteResolved?: (destination: ResolvedDestination) => void;
  /** The OTLP/HTTP port's timeouts and connection cap; the defaults suit a relay on a network. */
  httpLimits?: Partial<HttpLimits>;
  /** False: traces are stored pending for their destinations and delivered by the caller (a push, which tells each one's fate). */
  deliver?: boolean;
}

/** The OTLP/HTTP port's timeouts and connection cap, for clients on a network. */
const DEFAULT_HTTP_LIMITS: HttpLimits = {
  // An exporter writes its headers at once; ten seconds is a slow network, not a client that is
  // still typing. Node's own 60 s would let a dribbler hold a descriptor six times as long.
  headersTimeoutMs: 10_000,
  // SDK exporters give up on a request after 10 s by default (OTEL_EXPORTER_OTLP_TIMEOUT); a body
  // still arriving after 30 s belongs to a client that has long stopped waiting for the answer.
  requestTimeoutMs: 30_000,
  // Longer than the 5 s a BatchSpanProcessor waits between exports, so that an exporter reuses its
  // connection rather than opening one per batch; idle connections are the first cut at the cap.
  keepAliveTimeoutMs: 15_000,
  // Node checks its timeouts every 30 s by default: a flood of dribblers would live that long past them.
  checkIntervalMs: 1_000,
  // Node raises its descriptor limit to the hard limit at start (commonly 4,096 or more): this
  // leaves room for the store, the gRPC port and the connections to MLflow at 4,096, and is far
  // more than the few connections each exporter keeps open.
  maxConnections: 1_000,
};

interface RelayHealth {
  status: 'ok';
  version: string;
  receivers: { http: string; grpc: string | null };
  store_dir: string;
  received: { requests: number; spans: number; rejected_requests: number; deferred_requests: number; repaired_strings: number };
  /** Traces the full store turned away (503), each once however often sent, and those their senders have not sent again yet. */
  turned_away: { traces: number; not_sent_again: number };
  /** The OTLP/HTTP port's connections: many cut or timed out means clients too slow to send, or someone holding connections open. */
  http_connections: ConnectionCounts;
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
  /**
   * Stops receiving, writes what was received, delivers within the deadline or until `interrupt`
   * aborts; the rest stays pending on disk.
   */
  close(
    deadlineMs: number,
    interrupt?: AbortSignal,
  ): Promise<{ report: PipelineReport; counters: RelayCounters; traces: StateCounts; destinations: RouteState[] }>;
}

/**
 * SDKs send spans as they end: a trace is held from delivery until its root arrived and nothing came
 * for `quietMs`, or `maxWaitMs` after its first spans (a root that never arrives).
 */
const DEFAULT_HOLD: AssemblyHold = { quietMs: 2_000, maxWaitMs: 5 * 60_000 };
/** Requests in flight at shutdown finish within this (they wait only for a group commit). */
const HTTP_CLOSE_GRACE_MS = 5_000;

/** The relay: OTLP receivers (HTTP and gRPC) in front of the one trace pipeline. */
export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const started = Date.now();
  const { config } = options;
  const pipeline = openPipeline(options);
  // Closed, the relay must not wait for a server that never answers (a black hole) to time out.
  const stopping = new AbortController();
  const connection = connectToTracking(config, { signal: stopping.signal });
  const routes = new RelayRoutes({
    config,
    ...(connection && { http: connection.http }),
    onResolved: (destination) => {
      if (options.deliver !== false) pipeline.addDestination(destination);
      options.onRouteResolved?.(destination);
    },
  });
  const counters: RelayCounters = {
    requests: 0,
    spans: 0,
    rejectedRequests: 0,
    deferredRequests: 0,
    repairedStrings: 0,
    lostBatches: new Map(),
    turnedAway: new Map(),
  };
  const ingest = createRelayIngest({ pipeline, routes, hold: options.hold ?? DEFAULT_HOLD, counters });

  let receivers: Receivers | undefined;
  try {
    routes.resume(pipeline.store.reads.pendingDestinations());
    await routes.start(options.resolveWaitMs ?? DESTINATION_START_WAIT_MS);
    receivers = await startReceivers(options, ingest, () => health());
  } catch (error) {
    routes.stop();
    stopping.abort();
    await pipeline.shutdown(0);
    throw error;
  }
  const { http, grpc, grpcAddress } = receivers;
  const health = (): RelayHealth => ({
    status: 'ok',
    version: VERSION,
    receivers: { http: `${http.url}/v1/traces`, grpc: grpcAddress },
    store_dir: pipeline.store.dir,
    received: {
      requests: counters.requests,
      spans: counters.spans,
      rejected_requests: counters.rejectedRequests,
      deferred_requests: counters.deferredRequests,
      repaired_strings: counters.repairedStrings,
    },
    turned_away: turnedAwayJson(counters.turnedAway),
    http_connections: http.connections(),
    traces: traceCounts(pipeline, routes),
    delivered: pipeline.stats.delivered,
    dead: pipeline.stats.dead,
    destinations: routes.states(),
    last_error: pipeline.stats.lastFailure ?? null,
    last_rejection: counters.lastProblem ?? null,
    uptime_seconds: Math.round((Date.now() - started) / 1000),
  });

  return {
    httpUrl: http.url,
    grpcAddress,
    health,
    async close(deadlineMs, interrupt) {
      // Receivers first: every request answered "accepted" is in the store before the pipeline closes.
      await Promise.all([http.close(HTTP_CLOSE_GRACE_MS), ...grpc.map((receiver) => receiver.close())]);
      routes.stop();
      stopping.abort();
      // Everything answered "accepted" is committed by now (the receivers waited for it): nothing more
      // is coming, so traces held for late spans go too.
      await pipeline.flush(deadlineMs, { releaseHolds: true, ...(interrupt && { interrupt }) });
      const traces = traceCounts(pipeline, routes);
      return { report: await pipeline.shutdown(0), counters, traces, destinations: routes.states() };
    },
  };
}

function turnedAwayJson(turnedAway: ReadonlyMap<string, boolean>): RelayHealth['turned_away'] {
  const { traces, notSentAgain } = turnedAwayCounts(turnedAway);
  return { traces, not_sent_again: notSentAgain };
}

function openPipeline(options: RelayOptions): TracePipeline {
  const { config } = options;
  return new TracePipeline({
    storeDir: config.storeDir.value,
    storeOptions: { maxBytes: config.storeMaxBytes.value },
    auth: config.auth,
    origin: 'relay',
    ...(options.captureContent === false && { captureContent: false }),
    deliverInBackground: true,
    // A configured secret that reached a span (a provider's error echoing its key) is masked before it is kept.
    // With no secret configured there is nothing to look for in every span's text.
    ...(rememberedSecrets().length > 0 && { maskText: maskSecrets }),
    ...(options.onEvent && { onEvent: options.onEvent }),
  });
}

interface Receivers {
  http: ListeningServer;
  /** The gRPC port's receiver, and the one behind the HTTP port. */
  grpc: { close(): Promise<void> }[];
  /** `host:port` of the gRPC port; null without one. */
  grpcAddress: string | null;
}

/** Both receivers listening, or neither: one that cannot listen closes the other. */
async function startReceivers(options: RelayOptions, ingest: OtlpIngest, health: () => RelayHealth): Promise<Receivers> {
  const token = options.authToken ? { token: options.authToken } : {};
  const app = createRelayApp({ ingest, ...token }, health);
  const { grpcPort } = options;
  // An SDK whose default protocol is gRPC (Python's distro), or one that chooses it in code (Go's,
  // Rust's), given the one endpoint the relay or `run` names.
  const grpcOnHttp = grpcBehindHttp({ ingest, ...token });
  const http = await listen(app, {
    host: options.host,
    port: options.port,
    portFlag: '--port',
    limits: { ...DEFAULT_HTTP_LIMITS, ...options.httpLimits },
    http2: grpcOnHttp.take,
  });
  if (grpcPort === null) return { http, grpc: [grpcOnHttp], grpcAddress: null };
  const { startOtlpGrpcReceiver } = await import('../otlp/otlp-grpc-receiver.ts');
  try {
    const grpc = await startOtlpGrpcReceiver({ ingest, host: options.host, port: grpcPort, ...token });
    return { http, grpc: [grpc, grpcOnHttp], grpcAddress: `${bracketed(options.host)}:${grpc.port}` };
  } catch (error) {
    await Promise.all([http.close(HTTP_CLOSE_GRACE_MS), grpcOnHttp.close()]);
    throw cannotListen(options.host, grpcPort, error, '--grpc-port (or --grpc-port off)');
  }
}

/** Traces of the relay's destinations by delivery state, whoever stored them; all of them before any route exists. */
function traceCounts(pipeline: TracePipeline, routes: RelayRoutes): StateCounts {
  const total: StateCounts = { local: 0, pending: 0, delivered: 0, dead: 0 };
  const keys = routes.states().map((route) => route.key);
  for (const counts of keys.length > 0 ? keys.map((key) => pipeline.store.reads.counts(key)) : [pipeline.store.reads.counts()]) {
    for (const state of Object.keys(total) as (keyof StateCounts)[]) total[state] += counts[state];
  }
  return total;
}
