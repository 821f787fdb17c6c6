/** A server whose UI shows experiments: self-hosted MLflow or a Databricks workspace. */
export interface UiServer {
  kind: 'mlflow' | 'databricks';
  /** The tracking server's base URL, or the workspace's. */
  server: string;
}

/** Where a person opens the trace: MLflow's own UI, or the Databricks workspace's experiment page. */
export function traceUrl(at: UiServer, experimentId: string, traceId: string): string {
  return `${experimentUrl(at, experimentId)}/traces?selectedEvaluationId=${encodeURIComponent(traceId)}`;
}

export function experimentUrl(at: UiServer, experimentId: string): string {
  return at.kind === 'mlflow' ? `${at.server}/#/experiments/${experimentId}` : `${at.server}/ml/experiments/${experimentId}`;
}

export function runUrl(at: UiServer, experimentId: string, runId: string): string {
  return `${experimentUrl(at, experimentId)}/runs/${runId}`;
}
