import type { ExperimentRef, ResolvedConfig } from '../../config/types.ts';

/**
 * The identity of where the configuration sends traces, as configured (server and experiment name or
 * id, table, collector) rather than as resolved: a run that cannot reach MLflow still knows which
 * destination its traces wait for, and the next run that reaches it delivers them. Undefined without
 * a destination. `experiment` names another experiment on the same server (the relay routes by it).
 */
export function destinationKey(config: ResolvedConfig, experiment: ExperimentRef = config.experiment): string | undefined {
  const key = placeKey(config, experiment);
  // Traces of a run wait for a delivery that links them to it.
  return key && config.runId ? `${key} run ${config.runId.value}` : key;
}

function placeKey(config: ResolvedConfig, ref: ExperimentRef): string | undefined {
  const destination = config.destination;
  const experiment = ref.kind === 'id' ? `experiment id ${ref.id.value}` : `experiment ${ref.name.value}`;
  switch (destination.kind) {
    case 'mlflow':
      return `mlflow ${destination.trackingUri.value} ${experiment}`;
    case 'databricks':
      return `databricks ${destination.host.value} ${experiment}`;
    case 'databricks-uc':
      return `uc ${destination.host.value} ${destination.table.value}`;
    case 'otlp':
      return `otlp ${destination.endpoint.value}`;
    case 'none':
      return undefined;
  }
}

/**
 * The experiment a key names, when it is a key of this configuration's server (the relay resumes
 * routes an earlier run left traces pending for); undefined for keys of other places.
 */
export function experimentInKey(config: ResolvedConfig, key: string): ExperimentRef | undefined {
  const marker = '\u0000';
  const source = { kind: 'derived', from: 'traces waiting in the store' } as const;
  const shape = destinationKey(config, { kind: 'name', name: { value: marker, source } });
  if (shape === undefined) return undefined;
  const [before = '', after = ''] = shape.split(marker);
  if (key.length <= before.length + after.length || !key.startsWith(before) || !key.endsWith(after)) return undefined;
  const named = key.slice(before.length, key.length - after.length);
  const id = /^id (\d+)$/.exec(named)?.[1];
  return id ? { kind: 'id', id: { value: id, source } } : { kind: 'name', name: { value: named, source } };
}
