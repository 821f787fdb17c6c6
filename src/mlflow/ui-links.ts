import type { Destination } from '../config/types.ts';

/** Where a person opens the trace: MLflow's own UI, or the Databricks workspace's experiment page. */
export function traceUrl(destination: Destination, experimentId: string, traceId: string): string | undefined {
  const query = `selectedEvaluationId=${encodeURIComponent(traceId)}`;
  switch (destination.kind) {
    case 'mlflow':
      return `${destination.trackingUri.value}/#/experiments/${experimentId}/traces?${query}`;
    case 'databricks':
      return `${destination.host.value}/ml/experiments/${experimentId}/traces?${query}`;
    default:
      return undefined;
  }
}

export function experimentUrl(destination: Destination, experimentId: string): string | undefined {
  switch (destination.kind) {
    case 'mlflow':
      return `${destination.trackingUri.value}/#/experiments/${experimentId}`;
    case 'databricks':
      return `${destination.host.value}/ml/experiments/${experimentId}`;
    default:
      return undefined;
  }
}
