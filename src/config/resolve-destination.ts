import type { ConfigProblem } from '../errors.ts';
import { describeSource } from './mask.ts';
import { parseDatabricksHost } from './parse-values.ts';
import type { OptionKey } from './options.ts';
import type { Resolution, ResolvedOptions } from './resolve-options.ts';
import { classifyTrackingUri, type TrackingTarget } from './tracking-uri.ts';
import type { Destination, Source, Sourced } from './types.ts';

export type DestinationKind = Destination['kind'];

export function isDatabricks(kind: DestinationKind): kind is 'databricks' | 'unity-catalog' {
  return kind === 'databricks' || kind === 'unity-catalog';
}

function trackingTarget(values: ResolvedOptions): TrackingTarget | undefined {
  const parsed = values.trackingUri && classifyTrackingUri(values.trackingUri.value);
  return parsed?.ok ? parsed.value : undefined;
}

/**
 * An OTLP endpoint means a collector, unless the destination was named by flag; then a UC table;
 * then the tracking URI, where a workspace URL (by its host name, or equal to DATABRICKS_HOST) means
 * Databricks as much as `databricks` does.
 */
export function destinationKind(values: ResolvedOptions): DestinationKind {
  const byFlag = values.trackingUri?.source.kind === 'flag' || values.ucTable?.source.kind === 'flag';
  if (values.otlpEndpoint && !byFlag) return 'collector';
  if (values.ucTable) return 'unity-catalog';
  const target = trackingTarget(values);
  if (!target) return 'local';
  if (target.kind === 'databricks') return 'databricks';
  const host = values.databricksHost?.value;
  return target.workspace || (host !== undefined && host === target.origin) ? 'databricks' : 'mlflow';
}

export function resolveDestination(
  kind: DestinationKind,
  values: ResolvedOptions,
  empty: Partial<Record<OptionKey, Source>>,
  profile: Sourced<string> | undefined,
  /** The profile asked for, also when ~/.databrickscfg lacks it: where a missing host could be added. */
  profileName = profile?.value ?? 'DEFAULT',
): { destination: Destination; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const none = { destination: { kind: 'local' } as const, problems };
  switch (kind) {
    case 'local':
      return none;
    case 'mlflow':
      return { destination: { kind, trackingUri: sourced(values.trackingUri!) }, problems };
    case 'collector':
      return {
        destination: {
          kind,
          endpoint: sourced(values.otlpEndpoint!),
          headers: values.otlpHeaders && sourced(values.otlpHeaders),
        },
        problems,
      };
    case 'databricks':
    case 'unity-catalog': {
      const host = databricksHost(values, empty, profileName, problems);
      if (!host) return none;
      const withProfile = profile ? { profile } : {};
      return kind === 'databricks'
        ? { destination: { kind, host, ...withProfile }, problems }
        : { destination: { kind, host, table: sourced(values.ucTable!), ...withProfile }, problems };
    }
  }
}

function databricksHost(
  values: ResolvedOptions,
  empty: Partial<Record<OptionKey, Source>>,
  profileName: string,
  problems: ConfigProblem[],
): Sourced<string> | undefined {
  const target = trackingTarget(values);
  const uri = values.trackingUri;
  const configured = values.databricksHost && sourced(values.databricksHost);
  if (uri && target?.kind === 'http') {
    if (values.ucTable && !target.workspace && configured?.value !== target.origin) {
      problems.push({
        message: `OTEL_MLFLOW_UC_TABLE (from ${describeSource(values.ucTable.source)}) needs a Databricks workspace, but MLFLOW_TRACKING_URI points at a self-hosted MLflow server; unset one of them`,
        source: describeSource(uri.source),
      });
      return undefined;
    }
    const fromUri = parseDatabricksHost(target.origin);
    if (!fromUri.ok) {
      problems.push({
        message: `MLFLOW_TRACKING_URI points at a Databricks workspace and ${fromUri.problem}`,
        source: describeSource(uri.source),
      });
      return undefined;
    }
    if (configured?.value === fromUri.value) return configured;
    if (configured) {
      problems.push({
        message: `MLFLOW_TRACKING_URI points at workspace ${fromUri.value}, but DATABRICKS_HOST (from ${describeSource(configured.source)}) is ${configured.value}; make them the same or unset DATABRICKS_HOST`,
        source: describeSource(uri.source),
      });
      return undefined;
    }
    return { value: fromUri.value, source: uri.source };
  }
  if (configured) return configured;
  const emptyHost = empty.databricksHost;
  problems.push({
    message:
      `no Databricks workspace host: ${emptyHost ? `DATABRICKS_HOST (from ${describeSource(emptyHost)}) is empty; ` : ''}` +
      `set DATABRICKS_HOST=https://<workspace>.cloud.databricks.com, or add host to profile [${profileName}] in ~/.databrickscfg`,
  });
  return undefined;
}

export function sourced<T>(resolution: Resolution<T>): Sourced<T> {
  return { value: resolution.value, source: resolution.source };
}
