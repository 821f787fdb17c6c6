import { notAnswered, undefinedIfMissing } from './errors.ts';
import type { MlflowHttp, MlflowRequest } from './http.ts';

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowRun {
  runId: string;
  experimentId: string;
  name?: string;
  lifecycleStage: 'active' | 'deleted';
  status: RunStatus;
  /** Epoch ms. */
  startTime?: number;
  endTime?: number;
  /** `mlflow-artifacts:/1/<run>/artifacts` on a self-hosted server; `dbfs:/…` on Databricks. */
  artifactUri?: string;
  params: Record<string, string>;
  /** The latest value of each metric. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

type KeyValue<V> = { key: string; value: V };

interface RunJson {
  info: {
    run_id: string;
    experiment_id: string;
    run_name?: string;
    lifecycle_stage: 'active' | 'deleted';
    status?: RunStatus;
    start_time?: number | string;
    end_time?: number | string;
    artifact_uri?: string;
  };
  data?: { params?: KeyValue<string>[]; metrics?: KeyValue<number | string>[]; tags?: KeyValue<string>[] };
}

/** MLflow refuses more trace ids in one link-to-run request (its `LinkTracesToRun` limit). */
const MAX_TRACES_PER_LINK = 100;
/** MLflow's LogBatch limits (mlflow/utils/validation.py): params and tags each, metrics, and all entries together. */
const MAX_PARAMS_TAGS_PER_BATCH = 100;
const MAX_METRICS_PER_BATCH = 1000;
const MAX_ENTRIES_PER_BATCH = 1000;

/** `runs/get`; deleted runs are returned too (lifecycleStage 'deleted'); undefined when no run has the id. */
export async function getRun(http: MlflowHttp, runId: string): Promise<MlflowRun | undefined> {
  const answer = await undefinedIfMissing(() =>
    http.request<{ run: RunJson }>({ method: 'GET', path: '/api/2.0/mlflow/runs/get', query: { run_id: runId } }),
  );
  return answer && toRun(answer.run);
}

export interface NewRun {
  experimentId: string;
  name: string;
  /** Epoch ms; MLflow stores what the client says. */
  startTime: number;
  tags: Record<string, string>;
}

/** `runs/create`: a RUNNING run, as `mlflow.start_run()` makes it. */
export async function createRun(http: MlflowHttp, run: NewRun): Promise<MlflowRun> {
  const answer = await http.request<{ run?: RunJson }>(createRunRequest(run));
  if (!isRunAnswer(answer)) throw notAnswered('POST', '/api/2.0/mlflow/runs/create', 'a run');
  return toRun(answer.run);
}

export function createRunRequest(run: NewRun): MlflowRequest {
  return {
    method: 'POST',
    path: '/api/2.0/mlflow/runs/create',
    json: { experiment_id: run.experimentId, run_name: run.name, start_time: run.startTime, tags: toKeyValues(run.tags) },
  };
}

/** runs/create and runs/get answer `{"run": {"info": {"run_id": …}}}`. */
export function isRunAnswer(json: unknown): json is { run: RunJson } {
  return typeof (json as { run?: { info?: { run_id?: unknown } } } | undefined)?.run?.info?.run_id === 'string';
}

export function runFromAnswer(json: { run: RunJson }): MlflowRun {
  return toRun(json.run);
}

export interface RunData {
  params?: Record<string, string>;
  /** Logged at `timestamp` (epoch ms), step 0. */
  metrics?: Record<string, number>;
  tags?: Record<string, string>;
  timestamp: number;
}

/**
 * `runs/log-batch`, split to MLflow's per-request limits. Params cannot change once logged: the
 * same value again is accepted, another one is refused (400), so a retried batch is harmless.
 */
export function logBatchRequests(runId: string, data: RunData): MlflowRequest[] {
  let params = toKeyValues(data.params ?? {});
  let metrics = Object.entries(data.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: data.timestamp, step: 0 }));
  let tags = toKeyValues(data.tags ?? {});
  const requests: MlflowRequest[] = [];
  while (params.length + metrics.length + tags.length > 0) {
    const batchParams = params.slice(0, MAX_PARAMS_TAGS_PER_BATCH);
    const batchMetrics = metrics.slice(0, Math.min(MAX_METRICS_PER_BATCH, MAX_ENTRIES_PER_BATCH - batchParams.length));
    const batchTags = tags.slice(0, Math.min(MAX_PARAMS_TAGS_PER_BATCH, MAX_ENTRIES_PER_BATCH - batchParams.length - batchMetrics.length));
    params = params.slice(batchParams.length);
    metrics = metrics.slice(batchMetrics.length);
    tags = tags.slice(batchTags.length);
    requests.push({
      method: 'POST',
      path: '/api/2.0/mlflow/runs/log-batch',
      json: { run_id: runId, params: batchParams, metrics: batchMetrics, tags: batchTags },
    });
  }
  return requests;
}

export async function logRunData(http: MlflowHttp, runId: string, data: RunData): Promise<void> {
  for (const request of logBatchRequests(runId, data)) await http.request(request);
}

/** `runs/update`: ends a run (FINISHED, FAILED) at `endTime` (epoch ms). */
export async function endRun(
  http: MlflowHttp,
  runId: string,
  status: Exclude<RunStatus, 'RUNNING' | 'SCHEDULED'>,
  endTime: number,
): Promise<void> {
  await http.request(endRunRequest(runId, status, endTime));
}

export function endRunRequest(runId: string, status: Exclude<RunStatus, 'RUNNING' | 'SCHEDULED'>, endTime: number): MlflowRequest {
  return { method: 'POST', path: '/api/2.0/mlflow/runs/update', json: { run_id: runId, status, end_time: endTime } };
}

export interface RunSearch {
  experimentIds: string[];
  /** MLflow's search syntax, e.g. ``tags.`otel-mlflow.suite` = 'true' AND attributes.status = 'FINISHED'``. */
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
}

/** `runs/search`, active runs only, one page. */
export async function searchRuns(http: MlflowHttp, search: RunSearch): Promise<MlflowRun[]> {
  const answer = await http.request<{ runs?: RunJson[] }>({
    method: 'POST',
    path: '/api/2.0/mlflow/runs/search',
    json: {
      experiment_ids: search.experimentIds,
      ...(search.filter && { filter: search.filter }),
      run_view_type: 'ACTIVE_ONLY',
      max_results: search.maxResults ?? 100,
      ...(search.orderBy && { order_by: search.orderBy }),
    },
  });
  // No hits answers `{}`.
  return (answer.runs ?? []).map(toRun);
}

/**
 * Ties traces to a run, as MLflow's `link_traces_to_run` does; `search_traces(run_id=…)` then finds
 * them. Every MLflow from 3.6 has the route; a failure throws MlflowApiError.
 */
export async function linkTracesToRun(http: MlflowHttp, runId: string, traceIds: readonly string[]): Promise<void> {
  for (const request of linkRequests(runId, traceIds)) await http.request(request);
}

export function linkRequests(runId: string, traceIds: readonly string[]): MlflowRequest[] {
  const requests: MlflowRequest[] = [];
  for (let start = 0; start < traceIds.length; start += MAX_TRACES_PER_LINK) {
    requests.push({
      method: 'POST',
      path: '/api/2.0/mlflow/traces/link-to-run',
      json: { trace_ids: traceIds.slice(start, start + MAX_TRACES_PER_LINK), run_id: runId },
    });
  }
  return requests;
}

function toKeyValues(record: Record<string, string>): KeyValue<string>[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

function toRun({ info, data }: RunJson): MlflowRun {
  // int64 fields may come as strings (protobuf JSON) or bigint (beyond 2^53, never for epoch ms).
  const epoch = (value: number | string | undefined) => (value === undefined || value === null ? undefined : Number(value));
  const startTime = epoch(info.start_time);
  const endTime = epoch(info.end_time);
  return {
    runId: info.run_id,
    experimentId: info.experiment_id,
    ...(info.run_name && { name: info.run_name }),
    lifecycleStage: info.lifecycle_stage,
    status: info.status ?? 'RUNNING',
    ...(startTime !== undefined && { startTime }),
    ...(endTime !== undefined && { endTime }),
    ...(info.artifact_uri && { artifactUri: info.artifact_uri }),
    params: Object.fromEntries((data?.params ?? []).map(({ key, value }) => [key, value])),
    metrics: Object.fromEntries((data?.metrics ?? []).map(({ key, value }) => [key, Number(value)])),
    tags: Object.fromEntries((data?.tags ?? []).map(({ key, value }) => [key, value])),
  };
}
