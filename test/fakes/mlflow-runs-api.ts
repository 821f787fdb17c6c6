import type { Exchange, Reply } from './exchange.ts';
import { MlflowError } from './mlflow-errors.ts';
import { prettyJson, requestJson, requiredParam, type RestDialect } from './mlflow-rest-api.ts';
import type { StoredRun } from './trace-store.ts';

/**
 * The run routes (mlflow/server/handlers.py, SqlAlchemyStore): runs/get, create, update, log-batch
 * and search, and traces/link-to-run, which writes trace-to-run links without checking that either
 * end exists.
 */

/** MLflow's LinkTracesToRun limit. */
const MAX_TRACES_PER_LINK = 100;
/** mlflow/utils/validation.py: MAX_PARAMS_TAGS_PER_BATCH, MAX_METRICS_PER_BATCH, MAX_ENTITIES_PER_BATCH, MAX_PARAM_VAL_LENGTH. */
const MAX_PARAMS_TAGS_PER_BATCH = 100;
const MAX_METRICS_PER_BATCH = 1000;
const MAX_ENTITIES_PER_BATCH = 1000;
const MAX_PARAM_VAL_LENGTH = 6000;
const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;

type Json = Record<string, unknown>;

function runJson(run: StoredRun): Json {
  const latest = [...run.metrics].map(([key, points]) => ({ key, ...points.at(-1)! }));
  const keyValues = (map: Map<string, string>) => [...map].map(([key, value]) => ({ key, value }));
  // MLflow leaves empty repeated fields out.
  const data: Json = {
    ...(latest.length > 0 && { metrics: latest.map(({ key, value, timestamp, step }) => ({ key, value, timestamp, step })) }),
    ...(run.params.size > 0 && { params: keyValues(run.params) }),
    ...(run.tags.size > 0 && { tags: keyValues(run.tags) }),
  };
  return {
    info: {
      run_uuid: run.runId,
      experiment_id: run.experimentId,
      run_name: run.name,
      user_id: '',
      status: run.status,
      start_time: run.startTime,
      ...(run.endTime !== undefined && { end_time: run.endTime }),
      artifact_uri: run.artifactUri,
      lifecycle_stage: run.lifecycleStage,
      run_id: run.runId,
    },
    data,
    inputs: {},
  };
}

function runOrThrow(dialect: RestDialect, runId: string): StoredRun {
  const run = dialect.store.runs.get(runId);
  if (run === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
  return run;
}

function activeRunOrThrow(dialect: RestDialect, runId: string): StoredRun {
  const run = runOrThrow(dialect, runId);
  if (run.lifecycleStage !== 'active') {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `The run ${runId} must be in the 'active' state. Current state is ${run.lifecycleStage}.`,
    );
  }
  return run;
}

/** Deleted runs are answered too, with their lifecycle stage. */
export function getRun(dialect: RestDialect, exchange: Exchange): Reply {
  return prettyJson({ run: runJson(runOrThrow(dialect, requiredParam(exchange.query, 'run_id'))) });
}

export function createRun(dialect: RestDialect, exchange: Exchange): Reply {
  const body = requestJson(exchange);
  const experimentId = requiredParam(body, 'experiment_id');
  const experiment = dialect.store.experiments.get(experimentId);
  if (experiment === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', dialect.messages.noExperimentId(experimentId));
  if (experiment.lifecycleStage !== 'active') {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `The experiment ${experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
    );
  }
  const tags = keyValues(body.tags, 'tags');
  // As the SQL store does: the run name comes from run_name, else the mlflow.runName tag.
  const name = typeof body.run_name === 'string' && body.run_name !== '' ? body.run_name : tags.get('mlflow.runName');
  const startTime = body.start_time === undefined ? Date.now() : Number(body.start_time);
  const run = dialect.store.createRun(experimentId, name, startTime);
  for (const [key, value] of tags) run.tags.set(key, value);
  return prettyJson({ run: runJson(run) });
}

export function updateRun(dialect: RestDialect, exchange: Exchange): Reply {
  const body = requestJson(exchange);
  const run = activeRunOrThrow(dialect, requiredParam(body, 'run_id'));
  if (body.status !== undefined) {
    const status = String(body.status);
    if (!(RUN_STATUSES as readonly string[]).includes(status)) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid value "${status}" for parameter 'status' supplied.`);
    }
    run.status = status as StoredRun['status'];
  }
  if (body.end_time !== undefined) run.endTime = Number(body.end_time);
  if (typeof body.run_name === 'string' && body.run_name !== '') {
    run.name = body.run_name;
    run.tags.set('mlflow.runName', body.run_name);
  }
  return prettyJson({ run_info: runJson(run).info });
}

/** Checked whole before anything is written, as the SQL store's log_batch does. */
export function logBatch(dialect: RestDialect, exchange: Exchange): Reply {
  const body = requestJson(exchange);
  const run = activeRunOrThrow(dialect, requiredParam(body, 'run_id'));
  const params = list(body.params);
  const metrics = list(body.metrics);
  const tags = list(body.tags);
  const tooMany = (what: string, count: number, limit: number) =>
    new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `A batch logging request can contain at most ${limit} ${what}. Got ${count} ${what}. Please split up ${what} across multiple requests and try again.`,
    );
  if (params.length > MAX_PARAMS_TAGS_PER_BATCH) throw tooMany('params', params.length, MAX_PARAMS_TAGS_PER_BATCH);
  if (tags.length > MAX_PARAMS_TAGS_PER_BATCH) throw tooMany('tags', tags.length, MAX_PARAMS_TAGS_PER_BATCH);
  if (metrics.length > MAX_METRICS_PER_BATCH) throw tooMany('metrics', metrics.length, MAX_METRICS_PER_BATCH);
  const total = params.length + metrics.length + tags.length;
  if (total > MAX_ENTITIES_PER_BATCH) throw tooMany('entities', total, MAX_ENTITIES_PER_BATCH);
  for (const param of params) {
    const key = requiredParam(param, 'key');
    const value = String(param.value ?? '');
    if (value.length > MAX_PARAM_VAL_LENGTH) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Param value '${value.slice(0, 50)}...' had length ${value.length}, which exceeded length limit of ${MAX_PARAM_VAL_LENGTH}`,
      );
    }
    const logged = run.params.get(key);
    if (logged !== undefined && logged !== value) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Changing param values is not allowed. Params were already logged='[{'key': '${key}', 'old_value': '${logged}', 'new_value': '${value}'}]' for run ID='${run.runId}'.`,
      );
    }
  }
  for (const metric of metrics) {
    requiredParam(metric, 'key');
    if (typeof metric.value !== 'number' || !Number.isFinite(metric.value)) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Got invalid value ${String(metric.value)} for metric '${String(metric.key)}' (timestamp=${String(metric.timestamp)}). Please specify value as a valid double (64-bit floating point)`,
      );
    }
  }
  for (const param of params) run.params.set(String(param.key), String(param.value ?? ''));
  for (const metric of metrics) {
    const points = run.metrics.get(String(metric.key)) ?? [];
    points.push({ value: metric.value as number, timestamp: Number(metric.timestamp ?? 0), step: Number(metric.step ?? 0) });
    run.metrics.set(String(metric.key), points);
  }
  for (const tag of tags) run.tags.set(requiredParam(tag, 'key'), String(tag.value ?? ''));
  return prettyJson({});
}

/**
 * `runs/search` over active runs, newest start first (MLflow's default order), with the filters a
 * client of this tool sends: `tags.<key> = '<value>'` (key plain or in backquotes) and
 * `attributes.status = '<status>'`, joined by AND. Anything else is refused as MLflow refuses an
 * unparseable filter.
 */
export function searchRuns(dialect: RestDialect, exchange: Exchange): Reply {
  const body = requestJson(exchange);
  const experimentIds = Array.isArray(body.experiment_ids) ? body.experiment_ids.map(String) : [];
  const conditions = parseFilter(typeof body.filter === 'string' ? body.filter : '');
  const maxResults = body.max_results === undefined ? 1000 : Number(body.max_results);
  const orderBy = Array.isArray(body.order_by) ? body.order_by.map(String) : [];
  const ascending = orderBy[0] !== undefined && /\bASC$/i.test(orderBy[0]);
  const runs = [...dialect.store.runs.values()]
    .filter((run) => experimentIds.includes(run.experimentId) && run.lifecycleStage === 'active')
    .filter((run) => conditions.every(({ field, key, value }) => (field === 'tag' ? run.tags.get(key) === value : run.status === value)))
    .sort((a, b) => (ascending ? a.startTime - b.startTime : b.startTime - a.startTime))
    .slice(0, maxResults);
  return prettyJson(runs.length > 0 ? { runs: runs.map(runJson) } : {});
}

function parseFilter(filter: string): { field: 'tag' | 'status'; key: string; value: string }[] {
  if (filter.trim() === '') return [];
  return filter.split(/\s+AND\s+/i).map((part) => {
    const tag = /^\s*tags\.(?:`([^`]+)`|([\w.-]+))\s*=\s*'([^']*)'\s*$/.exec(part);
    if (tag) return { field: 'tag', key: tag[1] ?? tag[2] ?? '', value: tag[3] ?? '' };
    const status = /^\s*(?:attributes?\.)?status\s*=\s*'([^']*)'\s*$/.exec(part);
    if (status) return { field: 'status', key: 'status', value: status[1] ?? '' };
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid clause(s) in filter string: '${part.trim()}'`);
  });
}

export function linkTracesToRun(dialect: RestDialect, exchange: Exchange): Reply {
  const body = requestJson(exchange);
  const runId = requiredParam(body, 'run_id');
  const traceIds = Array.isArray(body.trace_ids) ? body.trace_ids.map(String) : [];
  if (traceIds.length > MAX_TRACES_PER_LINK) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Cannot link more than ${MAX_TRACES_PER_LINK} traces to a run in a single request. Provided ${traceIds.length} traces.`,
    );
  }
  dialect.store.linkTraces(traceIds, runId);
  return prettyJson({});
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((item): item is Json => typeof item === 'object' && item !== null) : [];
}

function keyValues(value: unknown, what: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of list(value)) {
    if (typeof item.key !== 'string' || item.key === '')
      throw new MlflowError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${what}.key'.`);
    map.set(item.key, String(item.value ?? ''));
  }
  return map;
}
