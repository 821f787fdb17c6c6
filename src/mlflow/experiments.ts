import { undefinedIfMissing } from './errors.ts';
import type { MlflowHttp } from './http.ts';

export interface Experiment {
  experimentId: string;
  name: string;
  lifecycleStage: 'active' | 'deleted';
  artifactLocation?: string;
}

interface ExperimentJson {
  experiment_id: string;
  name: string;
  lifecycle_stage: 'active' | 'deleted';
  artifact_location?: string;
}

/** Deleted experiments are returned too (lifecycleStage 'deleted'); undefined when none has the name. */
export async function getExperimentByName(http: MlflowHttp, name: string): Promise<Experiment | undefined> {
  return fetchExperiment(http, 'get-by-name', { experiment_name: name });
}

export async function getExperiment(http: MlflowHttp, id: string): Promise<Experiment | undefined> {
  return fetchExperiment(http, 'get', { experiment_id: id });
}

async function fetchExperiment(http: MlflowHttp, route: string, query: Record<string, string>): Promise<Experiment | undefined> {
  const answer = await undefinedIfMissing(() =>
    http.request<{ experiment: ExperimentJson }>({ method: 'GET', path: `/api/2.0/mlflow/experiments/${route}`, query }),
  );
  return answer && toExperiment(answer.experiment);
}

/** Active experiments, most recently updated first; `max_results` caps one page and no further pages are read. */
export async function searchExperiments(http: MlflowHttp, maxResults: number): Promise<Experiment[]> {
  const answer = await http.request<{ experiments?: ExperimentJson[] }>({
    method: 'POST',
    path: '/api/2.0/mlflow/experiments/search',
    json: { max_results: maxResults, order_by: ['last_update_time DESC'] },
  });
  return (answer.experiments ?? []).map(toExperiment);
}

/** The new experiment's id. A taken name (also by a deleted experiment) throws RESOURCE_ALREADY_EXISTS. */
export async function createExperiment(http: MlflowHttp, name: string): Promise<string> {
  const answer = await http.request<{ experiment_id: string }>({
    method: 'POST',
    path: '/api/2.0/mlflow/experiments/create',
    json: { name },
  });
  return answer.experiment_id;
}

export async function restoreExperiment(http: MlflowHttp, id: string): Promise<void> {
  await http.request({ method: 'POST', path: '/api/2.0/mlflow/experiments/restore', json: { experiment_id: id } });
}

function toExperiment(json: ExperimentJson): Experiment {
  return {
    experimentId: json.experiment_id,
    name: json.name,
    lifecycleStage: json.lifecycle_stage,
    ...(json.artifact_location ? { artifactLocation: json.artifact_location } : {}),
  };
}
