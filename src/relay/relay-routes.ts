import { describeSource } from '../config/mask.ts';
import { isMlflowDestination, type ExperimentRef, type ResolvedConfig } from '../config/types.ts';
import { BackgroundResolution } from '../destination/background-resolution.ts';
import { resolveDestination } from '../destination/resolve.ts';
import { describeDestination, type ResolvedDestination } from '../destination/resolved-destination.ts';
import { describeTarget, isExperimentTarget, parseTargetKey, targetKey, targetOf, withoutRun, type Target } from '../destination/target.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import type { Clock } from '../util/clock.ts';

/** Where one trace goes: a destination key (undefined: kept locally), or why the client must change its request. */
export type RouteDecision = { kind: 'route'; key: string | undefined } | { kind: 'reject'; message: string };

/** How a route stands, for the health page. */
export interface RouteState {
  key: string;
  /** Where it delivers, once resolved, or where its traces wait for. */
  description: string;
  resolved: boolean;
  /** Why it cannot deliver yet (the server down, the experiment deleted…); retried while the relay runs. */
  problem?: string;
  since?: string;
}

export interface RelayRoutesOptions {
  config: ResolvedConfig;
  /** The tracking server's client; absent for a collector or local-only. */
  http?: MlflowHttp;
  /** A route resolved: the pipeline starts delivering there. */
  onResolved(destination: ResolvedDestination): void;
  /** How long an export request waits for a new route's experiment before its spans are stored as pending. */
  resolveWaitMs?: number;
  clock?: Clock;
}

interface Route {
  target: Target;
  resolution: BackgroundResolution;
  /** Named by a client (`x-mlflow-experiment-id`): an experiment the server refuses is the client's mistake. */
  clientNamed: boolean;
}

const RESOLVE_WAIT_MS = 3_000;

/**
 * The relay's routing: a trace goes to the experiment its client names in `x-mlflow-experiment-id`,
 * else the one its `service.name` maps to (OTEL_MLFLOW_RELAY_EXPERIMENTS, created when missing), else
 * the configured one. Each route is resolved by the one resolver, in the background, for as long as it
 * takes: a route the server cannot resolve now still takes traces, which wait on disk for it.
 */
export class RelayRoutes {
  readonly #config: ResolvedConfig;
  readonly #http: MlflowHttp | undefined;
  readonly #onResolved: RelayRoutesOptions['onResolved'];
  readonly #resolveWaitMs: number;
  readonly #clock: Clock | undefined;
  readonly #routes = new Map<string, Route>();

  constructor(options: RelayRoutesOptions) {
    this.#config = options.config;
    this.#http = options.http;
    this.#onResolved = options.onResolved;
    this.#resolveWaitMs = options.resolveWaitMs ?? RESOLVE_WAIT_MS;
    this.#clock = options.clock;
  }

  /**
   * Resolves the configured route, waiting for the server at most `waitMs`. A problem a person must fix
   * in the configuration (a run of another experiment, a deleted experiment) is thrown.
   */
  async start(waitMs = this.#resolveWaitMs): Promise<void> {
    const target = targetOf(this.#config);
    if (!target) return;
    const route = this.#routeFor(target, false);
    const state = await route.resolution.start(waitMs);
    if (state.kind === 'failing' && !state.passing) throw state.error;
  }

  /**
   * Routes an earlier run left traces pending for (another experiment on this server) are resolved
   * too, so those traces leave without waiting for a client to send there again.
   */
  resume(pendingKeys: readonly string[]): void {
    const configured = targetOf(this.#config);
    if (!isExperimentTarget(configured)) return;
    for (const key of pendingKeys) {
      const target = parseTargetKey(key);
      if (isExperimentTarget(target) && target.kind === configured.kind && target.server === configured.server)
        void this.#routeFor(target, false).resolution.start(0);
    }
  }

  stop(): void {
    for (const route of this.#routes.values()) route.resolution.stop();
  }

  states(): RouteState[] {
    return [...this.#routes.entries()].map(([key, route]) => {
      const state = route.resolution.state;
      if (state.kind === 'resolved') return { key, description: describeDestination(state.destination), resolved: true };
      return {
        key,
        description: describeTarget(route.target),
        resolved: false,
        ...(state.kind === 'failing' && { problem: state.problem, since: state.since }),
      };
    });
  }

  async decide(serviceName: string | undefined, headerExperimentId: string | undefined): Promise<RouteDecision> {
    if (!isMlflowDestination(this.#config.destination)) {
      const target = targetOf(this.#config);
      return { kind: 'route', key: target && targetKey(target) };
    }
    const chosen = this.#refFor(serviceName, headerExperimentId);
    if (chosen.kind === 'reject') return chosen;
    const configured = chosen.ref === this.#config.experiment;
    // The configured run links the configured experiment's traces only: a run belongs to one experiment.
    const target = configured ? targetOf(this.#config)! : withoutRun(targetOf(this.#config, chosen.ref)!);
    const route = this.#routeFor(target, chosen.clientNamed);
    if (route.resolution.state.kind === 'resolving') await route.resolution.start(this.#resolveWaitMs);
    const state = route.resolution.state;
    // The server said the experiment the client named cannot take traces: the client is told, not its spans kept for nothing.
    if (route.clientNamed && state.kind === 'failing' && !state.passing) return { kind: 'reject', message: state.problem };
    return { kind: 'route', key: targetKey(target) };
  }

  #refFor(
    serviceName: string | undefined,
    headerExperimentId: string | undefined,
  ): { kind: 'ref'; ref: ExperimentRef; clientNamed: boolean } | Extract<RouteDecision, { kind: 'reject' }> {
    const header = headerExperimentId?.trim();
    if (header) {
      // MLflow itself answers 400/422 to a name here; an empty header even drops the spans on 3.14.
      if (!/^\d+$/.test(header)) {
        return { kind: 'reject', message: `x-mlflow-experiment-id must be a numeric MLflow experiment id, not '${header.slice(0, 100)}'` };
      }
      return {
        kind: 'ref',
        ref: { kind: 'id', id: { value: header, source: { kind: 'derived', from: 'the x-mlflow-experiment-id header' } } },
        clientNamed: true,
      };
    }
    const mapped = serviceName === undefined ? undefined : this.#config.relayExperiments.value[serviceName];
    if (mapped) {
      const from = `service.name '${serviceName}' in ${describeSource(this.#config.relayExperiments.source)}`;
      return { kind: 'ref', ref: { kind: 'name', name: { value: mapped, source: { kind: 'derived', from } } }, clientNamed: false };
    }
    return { kind: 'ref', ref: this.#config.experiment, clientNamed: false };
  }

  #routeFor(target: Target, clientNamed: boolean): Route {
    const key = targetKey(target);
    let route = this.#routes.get(key);
    if (!route) {
      const http = this.#http;
      route = {
        target,
        clientNamed,
        resolution: new BackgroundResolution({
          resolve: () => resolveDestination(target, this.#config, { ...(http && { http }) }),
          onResolved: (destination) => this.#onResolved(destination),
          ...(this.#clock && { clock: this.#clock }),
        }),
      };
      this.#routes.set(key, route);
    }
    return route;
  }
}
