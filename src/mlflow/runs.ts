import { undefinedIfMissing } from './errors.ts';
import type { MlflowHttp } from './http.ts';

export interface MlflowRun {
  runId: string;
  experimentId: string;
  name?: string;
  lifecycleStage: 'active' | 'deleted';
}

interface RunJson {
  info: { run_id: string; experiment_id: string; run_name?: string; lifecycle_stage: 'active' | 'deleted' };
}

/** MLflow refuses more trace ids in one link-to-run request (its `LinkTracesToRun` limit). */
export const MAX_TRACES_PER_LINK = 100;

/** `runs/get`; deleted runs are returned too (lifecycleStage 'deleted'); undefined when no run has the id. */
export async function getRun(http: MlflowHttp, runId: string): Promise<MlflowRun | undefined> {
  const answer = await undefinedIfMissing(() =>
    http.request<{ run: RunJson }>({ method: 'GET', path: '/api/2.0/mlflow/runs/get', query: { run_id: runId } }),
  );
  if (!answer) return undefined;
  const { info } = answer.run;
  return {
    runId: info.run_id,
    experimentId: info.experiment_id,
    ...(info.run_name && { name: info.run_name }),
    lifecycleStage: info.lifecycle_stage,
  };
}

/**
 * Ties traces to a run, as MLflow's `link_traces_to_run` does; `search_traces(run_id=…)` then finds
 * them. Every MLflow from 3.6 has the route; a failure throws MlflowApiError.
 */
export async function linkTracesToRun(http: MlflowHttp, runId: string, traceIds: readonly string[]): Promise<void> {
  for (let start = 0; start < traceIds.length; start += MAX_TRACES_PER_LINK) {
    await http.request({
      method: 'POST',
      path: '/api/2.0/mlflow/traces/link-to-run',
      json: { trace_ids: traceIds.slice(start, start + MAX_TRACES_PER_LINK), run_id: runId },
    });
  }
}
