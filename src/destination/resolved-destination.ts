import type { OtlpEncoding } from '../config/types.ts';
import type { ServerCapabilities } from '../mlflow/server-info.ts';
import type { OtlpRouteProbe } from './otlp-route-probe.ts';
import type { RunLink } from './run-link.ts';
import { describeTarget, serverName, type CollectorTarget, type ExperimentTarget, type UnityCatalogTarget } from './target.ts';

/**
 * A target as the server answered for it: the experiment found or created, the run checked, the
 * route chosen. Plain data, so the pipeline's worker thread can build its own clients from it.
 */
export type ResolvedDestination = ResolvedExperiment | ResolvedUnityCatalog | ResolvedCollector;

export interface ResolvedExperiment {
  kind: 'mlflow' | 'databricks';
  target: ExperimentTarget;
  /** targetKey(target): what the traces waiting for it carry. */
  key: string;
  /** `action`: when resolving made or restored it (absent when it was there). */
  experiment: { id: string; name?: string; action?: 'created' | 'restored' };
  run?: RunLink & { name?: string };
  /** Self-hosted servers only: what its version does on the wire. */
  capabilities?: ServerCapabilities;
  route: OtlpRoute | RestRoute;
  /** Things a person should know about the route (a fallback, an encoding changed); see also foundNotes(). */
  notes: string[];
}

/** MLflow's own OTLP route, `/v1/traces`. */
export interface OtlpRoute {
  via: 'otlp';
  encoding: OtlpEncoding;
  /** Only where the server takes it: MLflow 3.6 answers 400 to a gzipped body. */
  gzip: boolean;
}

/** MLflow's REST trace logging: StartTraceV3, then traces.json. */
export interface RestRoute {
  via: 'rest';
  /** Databricks keeps traces.json behind a signed URL; self-hosted MLflow proxies artifacts. */
  artifactUpload: 'mlflow-artifacts' | 'databricks-signed-url';
  /** Set when REST is a fallback because the server has no usable OTLP route. */
  otlpUnavailable?: Extract<OtlpRouteProbe, { available: false }>;
}

interface ResolvedUnityCatalog {
  kind: 'unity-catalog';
  target: UnityCatalogTarget;
  key: string;
  notes: string[];
}

interface ResolvedCollector {
  kind: 'collector';
  target: CollectorTarget;
  key: string;
  /** OTEL_EXPORTER_OTLP_HEADERS: they may carry the collector's credentials. */
  headers: Record<string, string>;
  encoding: OtlpEncoding;
  notes: string[];
}

/** As a command says it at the moment it resolved: the description, and that the experiment was just made, if it was. */
export function describeJustResolved(destination: ResolvedDestination): string {
  const made = destination.kind === 'mlflow' || destination.kind === 'databricks' ? destination.experiment.action : undefined;
  return `${describeDestination(destination)}${made ? ` (experiment ${made} now)` : ''}`;
}

/** For people: `MLflow at http://127.0.0.1:5000, experiment 'my-app' (id 3), over OTLP`. */
export function describeDestination(destination: ResolvedDestination): string {
  if (destination.kind !== 'mlflow' && destination.kind !== 'databricks') return describeTarget(destination.target);
  const { experiment, run } = destination;
  const named = experiment.name !== undefined ? `'${experiment.name}' (id ${experiment.id})` : `id ${experiment.id}`;
  const linked = run ? `, run ${run.name ? `'${run.name}' (${run.runId})` : run.runId}` : '';
  return `${serverName(destination.target)}, experiment ${named}${linked}, over ${routeName(destination)}`;
}

export function routeName(destination: ResolvedDestination): string {
  switch (destination.kind) {
    case 'mlflow':
    case 'databricks':
      return destination.route.via === 'otlp' ? 'OTLP' : 'MLflow REST';
    case 'unity-catalog':
      return 'OTLP to Unity Catalog';
    case 'collector':
      return 'OTLP';
  }
}

/**
 * What resolving did that the description does not say: an experiment created or restored, the run
 * the traces are linked to. Shown before the route's notes wherever no description of the destination
 * is printed beside them.
 */
export function foundNotes(destination: ResolvedDestination): string[] {
  if (destination.kind !== 'mlflow' && destination.kind !== 'databricks') return [];
  const { experiment, run } = destination;
  const named = experiment.name !== undefined ? `'${experiment.name}'` : `id ${experiment.id}`;
  return [
    ...(experiment.action ? [`${experiment.action} experiment ${named} (id ${experiment.id})`] : []),
    ...(run ? [`traces are linked to MLflow run ${run.name ? `'${run.name}' ` : ''}(${run.runId})`] : []),
  ];
}
