import type { MlflowHttp } from '../mlflow/http.ts';
import { linkTracesToRun } from '../mlflow/runs.ts';
import { errorMessage } from '../errors.ts';

/**
 * How exported traces get tied to an MLflow run: by the OTLP request itself where the server reads
 * `x-mlflow-run-id` (3.14.1.dev0 on; older servers ignore the header), else by link-to-run once the
 * server has accepted them.
 */
export interface RunLink {
  runId: string;
  via: 'header' | 'link-to-run';
}

/** Headers for an OTLP request to MLflow: none unless the server links by header. */
export function runLinkHeaders(link: RunLink | undefined): Record<string, string> {
  return link?.via === 'header' ? { 'x-mlflow-run-id': link.runId } : {};
}

/**
 * What to record for traces the server has just accepted: the same outcome once they are linked
 * where the request could not link them, or a failure saying why linking failed (the traces
 * landed, but `search_traces(run_id=…)` will not find them).
 */
export async function linkIfAccepted<T extends { ok: boolean; reason?: string }>(
  outcome: T,
  http: MlflowHttp,
  link: RunLink | undefined,
  traceIds: readonly string[],
): Promise<T> {
  if (!outcome.ok || link?.via !== 'link-to-run' || traceIds.length === 0) return outcome;
  try {
    await linkTracesToRun(http, link.runId, traceIds);
    return outcome;
  } catch (error) {
    return { ...outcome, ok: false, reason: `accepted, but not linked to run ${link.runId}: ${errorMessage(error)}` };
  }
}
