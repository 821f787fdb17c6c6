import type { ResolvedConfig } from '../../config/types.ts';

/**
 * The identity of where the configuration sends traces, as configured (server and experiment name or
 * id, table, collector) rather than as resolved: a run that cannot reach MLflow still knows which
 * destination its traces wait for, and the next run that reaches it delivers them. Undefined without
 * a destination.
 */
export function destinationKey(config: ResolvedConfig): string | undefined {
  const key = placeKey(config);
  // Traces of a run wait for a delivery that links them to it.
  return key && config.runId ? `${key} run ${config.runId.value}` : key;
}

function placeKey(config: ResolvedConfig): string | undefined {
  const destination = config.destination;
  const experiment = config.experiment.kind === 'id' ? `experiment id ${config.experiment.id.value}` : `experiment ${config.experiment.name.value}`;
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
