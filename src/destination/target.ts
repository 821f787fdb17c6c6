import type { ExperimentRef, ResolvedConfig, Source, Sourced } from '../config/types.ts';

/**
 * Where traces are meant to go, as the configuration named it (server and experiment name or id, run,
 * table, collector) rather than as the server resolved it: a trace made while MLflow cannot be reached
 * still knows where it waits for, and whoever delivers it later sends it there. No target means the
 * local store only.
 */
export type Target = ExperimentTarget | UnityCatalogTarget | CollectorTarget;

/** An MLflow experiment, self-hosted or in a Databricks workspace; `run` links the traces to a run. */
export interface ExperimentTarget {
  kind: 'mlflow' | 'databricks';
  /** The tracking server's base URL, or the workspace's. */
  server: string;
  experiment: ExperimentRef;
  run?: Sourced<string>;
}

export interface UnityCatalogTarget {
  kind: 'unity-catalog';
  server: string;
  table: string;
}

export interface CollectorTarget {
  kind: 'collector';
  endpoint: string;
}

export function isExperimentTarget(target: Target | undefined): target is ExperimentTarget {
  return target?.kind === 'mlflow' || target?.kind === 'databricks';
}

/** The configured target; `experiment` names another experiment on the same server (the relay routes by it). */
export function targetOf(config: ResolvedConfig, experiment: ExperimentRef = config.experiment): Target | undefined {
  const destination = config.destination;
  switch (destination.kind) {
    case 'mlflow':
    case 'databricks':
      return {
        kind: destination.kind,
        server: destination.kind === 'mlflow' ? destination.trackingUri.value : destination.host.value,
        experiment,
        ...(config.runId && { run: config.runId }),
      };
    case 'unity-catalog':
      return { kind: 'unity-catalog', server: destination.host.value, table: destination.table.value };
    case 'collector':
      return { kind: 'collector', endpoint: destination.endpoint.value };
    case 'local':
      return undefined;
  }
}

/** Suite runs and scores wait for the experiment, whatever run the traces were linked to. */
export function withoutRun(target: Target): Target {
  if (!isExperimentTarget(target) || !target.run) return target;
  const { run: _run, ...rest } = target;
  return rest;
}

/**
 * The target as it is kept with each waiting trace, run and score: JSON with its fields in a fixed
 * order, so equal targets have equal keys. It holds no secret (collector headers stay in the config).
 */
export function targetKey(target: Target): string {
  switch (target.kind) {
    case 'mlflow':
    case 'databricks': {
      const ref = target.experiment;
      const experiment = ref.kind === 'id' ? { id: ref.id.value } : { name: ref.name.value };
      return JSON.stringify({ kind: target.kind, server: target.server, experiment, ...(target.run && { run: target.run.value }) });
    }
    case 'unity-catalog':
      return JSON.stringify({ kind: target.kind, server: target.server, table: target.table });
    case 'collector':
      return JSON.stringify({ kind: target.kind, endpoint: target.endpoint });
  }
}

const FROM_STORE: Source = { kind: 'derived', from: 'the traces waiting in the store' };

/** The target a key names; undefined for text that is no key (damaged by hand). */
export function parseTargetKey(key: string): Target | undefined {
  let data: unknown;
  try {
    data = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const { kind, server, experiment, run, table, endpoint } = data as Record<string, unknown>;
  if ((kind === 'mlflow' || kind === 'databricks') && typeof server === 'string' && typeof experiment === 'object' && experiment !== null) {
    const { id, name } = experiment as Record<string, unknown>;
    const ref: ExperimentRef | undefined =
      typeof id === 'string'
        ? { kind: 'id', id: { value: id, source: FROM_STORE } }
        : typeof name === 'string'
          ? { kind: 'name', name: { value: name, source: FROM_STORE } }
          : undefined;
    if (!ref) return undefined;
    return { kind, server, experiment: ref, ...(typeof run === 'string' && { run: { value: run, source: FROM_STORE } }) };
  }
  if (kind === 'unity-catalog' && typeof server === 'string' && typeof table === 'string') return { kind, server, table };
  if (kind === 'collector' && typeof endpoint === 'string') return { kind, endpoint };
  return undefined;
}

/**
 * A key in the words stores before structured keys used (`mlflow <uri> experiment <name>[ run <id>]`,
 * `… experiment id <n>`, `databricks <host> …`, `uc <host> <table>`, `otlp <endpoint>`), as a key;
 * undefined for anything else. Only the store's migration reads these.
 */
export function keyFromLegacyText(text: string): string | undefined {
  const experimentKey = /^(mlflow|databricks) (\S+) experiment (.+?)(?: run (\S+))?$/.exec(text);
  if (experimentKey) {
    const [, kind, server, named, run] = experimentKey;
    const id = /^id (\d+)$/.exec(named!)?.[1];
    const experiment: ExperimentRef = id
      ? { kind: 'id', id: { value: id, source: FROM_STORE } }
      : { kind: 'name', name: { value: named!, source: FROM_STORE } };
    return targetKey({
      kind: kind as 'mlflow' | 'databricks',
      server: server!,
      experiment,
      ...(run && { run: { value: run, source: FROM_STORE } }),
    });
  }
  const uc = /^uc (\S+) (\S+)$/.exec(text);
  if (uc) return targetKey({ kind: 'unity-catalog', server: uc[1]!, table: uc[2]! });
  const collector = /^otlp (\S+)$/.exec(text);
  if (collector) return targetKey({ kind: 'collector', endpoint: collector[1]! });
  return undefined;
}

/** For people: `MLflow at http://127.0.0.1:5000, experiment 'my-app', run 4f…`. */
export function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'mlflow':
    case 'databricks': {
      const ref = target.experiment;
      const experiment = ref.kind === 'id' ? `experiment id ${ref.id.value}` : `experiment '${ref.name.value}'`;
      return `${serverName(target)}, ${experiment}${target.run ? `, run ${target.run.value}` : ''}`;
    }
    case 'unity-catalog':
      return `Unity Catalog table ${target.table} in ${target.server}`;
    case 'collector':
      return `OTLP collector at ${target.endpoint}`;
  }
}

export function serverName(target: ExperimentTarget): string {
  return `${target.kind === 'mlflow' ? 'MLflow at' : 'Databricks workspace'} ${target.server}`;
}
