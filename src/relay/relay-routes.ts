import { describeSource } from '../config/mask.ts';
import { isMlflowDestination, type ExperimentRef, type ResolvedConfig } from '../config/types.ts';
import { checkConfiguredRun } from '../mlflow/check-run.ts';
import { ensureAppExperiment } from '../mlflow/ensure-experiment.ts';
import { getExperiment } from '../mlflow/experiments.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import { capabilitiesFor, getServerVersion, type ServerCapabilities } from '../mlflow/server-info.ts';
import { describePlan } from '../pipeline/destinations/destination-for-plan.ts';
import { destinationKey, experimentInKey } from '../pipeline/destinations/destination-key.ts';
import { chooseExportPlan, type ExportPlan } from '../tracing/export-plan.ts';

type RemotePlan = Exclude<ExportPlan, { kind: 'local' }>;

/** Where one trace goes: a destination key (undefined: kept locally), or why the client must change its request. */
export type RouteDecision = { kind: 'route'; key: string | undefined } | { kind: 'reject'; message: string };

/** How a route stands, for the health page. */
export interface RouteState {
  key: string;
  /** Where it delivers, once resolved: `MLflow at …, experiment 3 (OTLP)`. */
  description?: string;
  /** Why it cannot deliver yet (the server down, the experiment deleted…); retried while the relay runs. */
  problem?: string;
}

export interface RelayRoutesOptions {
  config: ResolvedConfig;
  /** The tracking server's client; absent for a collector or local-only. */
  http?: MlflowHttp;
  /** A new destination resolved: the pipeline starts delivering there. */
  onResolved(plan: RemotePlan, key: string): void;
  /** How long an export request waits for a new route's experiment before its spans are stored as pending. */
  resolveWaitMs?: number;
  retryMs?: number;
}

interface Route {
  key: string;
  ref: ExperimentRef | undefined;
  plan?: RemotePlan;
  problem?: string;
  resolving?: Promise<void>;
}

const RESOLVE_WAIT_MS = 3_000;
const RETRY_MS = 15_000;
/** An experiment id the server said does not exist is asked again after this long (it may be restored). */
const UNKNOWN_EXPERIMENT_TTL_MS = 60_000;

/**
 * The relay's routing: a trace goes to the experiment its client names in `x-mlflow-experiment-id`,
 * else the one its `service.name` maps to (OTEL_MLFLOW_RELAY_EXPERIMENTS, created when missing), else
 * the configured one. Each route is resolved against the server once (experiment found or created,
 * export path chosen) and then delivered by the pipeline; a route the server cannot resolve now still
 * takes traces, which wait on disk while it is retried.
 */
export class RelayRoutes {
  readonly #config: ResolvedConfig;
  readonly #http: MlflowHttp | undefined;
  readonly #onResolved: RelayRoutesOptions['onResolved'];
  readonly #resolveWaitMs: number;
  readonly #routes = new Map<string, Route>();
  readonly #unknownIds = new Map<string, { message: string; until: number }>();
  readonly #retry: NodeJS.Timeout;
  #capabilities: Promise<ServerCapabilities | undefined> | undefined;
  #runId: Promise<string | undefined> | undefined;

  constructor(options: RelayRoutesOptions) {
    this.#config = options.config;
    this.#http = options.http;
    this.#onResolved = options.onResolved;
    this.#resolveWaitMs = options.resolveWaitMs ?? RESOLVE_WAIT_MS;
    this.#retry = setInterval(() => this.#retryUnresolved(), options.retryMs ?? RETRY_MS);
    this.#retry.unref();
  }

  /** Resolves the configured route, waiting for the server at most `waitMs`. */
  async start(waitMs = this.#resolveWaitMs): Promise<RouteState | undefined> {
    const key = destinationKey(this.#config);
    if (key === undefined) return undefined;
    const route = this.#routeFor(key, isMlflowDestination(this.#config.destination) ? this.#config.experiment : undefined);
    await waitAtMost(route.resolving, waitMs);
    return this.#state(route);
  }

  /**
   * Routes an earlier run left traces pending for (another experiment on this server) are resolved
   * too, so those traces leave without waiting for a client to send there again.
   */
  resume(pendingKeys: readonly string[]): void {
    if (!isMlflowDestination(this.#config.destination)) return;
    for (const key of pendingKeys) {
      const ref = experimentInKey(this.#config, key);
      if (ref && destinationKey(this.#config, ref) === key) this.#routeFor(key, ref);
    }
  }

  stop(): void {
    clearInterval(this.#retry);
  }

  states(): RouteState[] {
    return [...this.#routes.values()].map((route) => this.#state(route));
  }

  async decide(serviceName: string | undefined, headerExperimentId: string | undefined): Promise<RouteDecision> {
    if (!isMlflowDestination(this.#config.destination)) return { kind: 'route', key: destinationKey(this.#config) };
    const ref = this.#refFor(serviceName, headerExperimentId);
    if (ref.kind === 'reject') return ref;
    const key = destinationKey(this.#config, ref.ref)!;
    // Known unknown: refused without asking the server; otherwise asked once, then known.
    const known = this.#unknownExperiment(ref.ref);
    if (known) return { kind: 'reject', message: known };
    await waitAtMost(this.#routeFor(key, ref.ref).resolving, this.#resolveWaitMs);
    const found = this.#unknownExperiment(ref.ref);
    return found ? { kind: 'reject', message: found } : { kind: 'route', key };
  }

  /** Why a client-named experiment is refused, while the server's "does not exist" is fresh. */
  #unknownExperiment(ref: ExperimentRef): string | undefined {
    if (ref.kind !== 'id') return undefined;
    const unknown = this.#unknownIds.get(ref.id.value);
    return unknown && unknown.until > Date.now() ? unknown.message : undefined;
  }

  #refFor(serviceName: string | undefined, headerExperimentId: string | undefined): { kind: 'ref'; ref: ExperimentRef } | Extract<RouteDecision, { kind: 'reject' }> {
    const header = headerExperimentId?.trim();
    if (header) {
      // MLflow itself answers 400/422 to a name here; an empty header even drops the spans on 3.14.
      if (!/^\d+$/.test(header)) {
        return { kind: 'reject', message: `x-mlflow-experiment-id must be a numeric MLflow experiment id, not '${header.slice(0, 100)}'` };
      }
      return { kind: 'ref', ref: { kind: 'id', id: { value: header, source: { kind: 'derived', from: 'the x-mlflow-experiment-id header' } } } };
    }
    const mapped = serviceName === undefined ? undefined : this.#config.relayExperiments.value[serviceName];
    if (mapped) {
      const from = `service.name '${serviceName}' in ${describeSource(this.#config.relayExperiments.source)}`;
      return { kind: 'ref', ref: { kind: 'name', name: { value: mapped, source: { kind: 'derived', from } } } };
    }
    return { kind: 'ref', ref: this.#config.experiment };
  }

  #routeFor(key: string, ref: ExperimentRef | undefined): Route {
    let route = this.#routes.get(key);
    if (!route) {
      route = { key, ref };
      this.#routes.set(key, route);
      this.#resolve(route);
    }
    return route;
  }

  #resolve(route: Route): void {
    if (route.plan || route.resolving) return;
    route.resolving = this.#planFor(route.ref).then(
      (plan) => {
        route.plan = plan;
        delete route.problem;
        this.#onResolved(plan, route.key);
      },
      (error: unknown) => {
        route.problem = error instanceof Error ? error.message : String(error);
      },
    ).finally(() => {
      delete route.resolving;
    });
  }

  async #planFor(ref: ExperimentRef | undefined): Promise<RemotePlan> {
    const http = this.#http;
    let experimentId: string | undefined;
    if (ref && http) experimentId = ref.kind === 'id' ? await this.#checkExperimentId(http, ref.id.value) : (await ensureAppExperiment(http, ref)).experiment.experimentId;
    const capabilities = await this.#serverCapabilities();
    const runId = await this.#checkedRun();
    const plan = await chooseExportPlan({
      config: this.#config,
      ...(http && { http }),
      ...(experimentId && { experimentId }),
      ...(capabilities && { capabilities }),
      ...(runId && { runId }),
    });
    if (plan.kind === 'local') throw new Error('no destination is configured');
    return plan;
  }

  /** An id from a client: one the server does not know is the client's mistake, told to it. */
  async #checkExperimentId(http: MlflowHttp, id: string): Promise<string> {
    const experiment = await getExperiment(http, id);
    if (!experiment || experiment.lifecycleStage === 'deleted') {
      const message = `experiment id ${id} (from the x-mlflow-experiment-id header) ${experiment ? 'is deleted' : 'does not exist'} on ${http.baseUrl}`;
      this.#unknownIds.set(id, { message, until: Date.now() + UNKNOWN_EXPERIMENT_TTL_MS });
      throw new Error(message);
    }
    this.#unknownIds.delete(id);
    return id;
  }

  #serverCapabilities(): Promise<ServerCapabilities | undefined> {
    const http = this.#http;
    if (!http || this.#config.destination.kind !== 'mlflow') return Promise.resolve(undefined);
    // Asked again after a failure: the server may have been down.
    this.#capabilities ??= getServerVersion(http).then(capabilitiesFor, (error: unknown) => {
      this.#capabilities = undefined;
      throw error;
    });
    return this.#capabilities;
  }

  #checkedRun(): Promise<string | undefined> {
    this.#runId ??= checkConfiguredRun(this.#config, this.#http).then(
      (run) => run?.runId,
      (error: unknown) => {
        this.#runId = undefined;
        throw error;
      },
    );
    return this.#runId;
  }

  #retryUnresolved(): void {
    for (const route of this.#routes.values()) {
      if (route.plan) continue;
      // An unknown client-named experiment is only looked at again when a client sends to it.
      if (route.ref && this.#unknownExperiment(route.ref)) continue;
      this.#resolve(route);
    }
  }

  #state(route: Route): RouteState {
    return {
      key: route.key,
      ...(route.plan && { description: describePlan(route.plan) }),
      ...(route.problem && !route.plan && { problem: route.problem }),
    };
  }
}

async function waitAtMost(work: Promise<void> | undefined, ms: number): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
