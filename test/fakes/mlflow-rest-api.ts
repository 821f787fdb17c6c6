import { jsonReply } from './exchange.ts';
import type { Exchange, Reply } from './exchange.ts';
import { flaskInternalError, MlflowError, mlflowErrorReply } from './mlflow-errors.ts';
import { durationJson, timestampJson } from './otlp-ingest.ts';
import { dumpJson, tryParseJson } from './python-json.ts';
import { searchTraces } from './trace-search.ts';
import type { StoredExperiment, TraceInfo, TraceStore } from './trace-store.ts';

/**
 * MLflow's Flask REST handlers that self-hosted MLflow and Databricks share: experiments,
 * StartTraceV3, trace info and trace search. Where the backends word things differently, the
 * dialect says how.
 */
export interface RestDialect {
  store: TraceStore;
  errorClasses: boolean;
  messages: {
    noExperimentId(id: string): string;
    noExperimentName(name: string): string;
    duplicateExperiment(name: string): string;
    /** StartTraceV3 for an experiment that does not exist. */
    startTraceNoExperiment(id: string): string;
  };
  /** Refuses a name before create (Databricks: workspace paths). */
  checkNewExperimentName?(name: string): MlflowError | undefined;
  /** `mlflow.artifactLocation` of a REST-logged trace. */
  traceArtifactLocation(experiment: StoredExperiment, traceId: string): string;
  /** `workspace` field of experiments (MLflow 3.14+: "default"). */
  experimentWorkspace?: string;
  /** A second StartTraceV3 for a trace id: SQL stores update in place, the file store fails. */
  resendTrace: 'update' | 'flask-500';
}

type Json = Record<string, unknown>;

/** Runs a handler, answering MlflowErrors as MLflow's JSON errors. */
export function answer(dialect: RestDialect, handler: () => Reply): Reply {
  try {
    return handler();
  } catch (error) {
    if (error instanceof MlflowError) return mlflowErrorReply(error, dialect.errorClasses);
    throw error;
  }
}

export function prettyJson(value: unknown, status = 200): Reply {
  return jsonReply(status, dumpJson(value, 'pretty'));
}

/** The request body of a POST handler, checked as mlflow/server/handlers.py `_get_request_json` does. */
export function requestJson(exchange: Exchange): Json {
  const contentType = exchange.headers['content-type'];
  if (contentType === undefined) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', 'Bad Request. Content-Type header is missing.');
  }
  if (contentType.split(';')[0]?.trim() !== 'application/json') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', "Bad Request. Content-Type must be one of ['application/json'].");
  }
  // Flask's get_json(silent=True): a body that is not JSON reads as no parameters at all.
  const parsed = tryParseJson(exchange.body.toString('utf8'))?.value;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : {};
}

function missing(name: string): MlflowError {
  return new MlflowError(
    'INVALID_PARAMETER_VALUE',
    `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`,
  );
}

export function requiredParam(source: Json | URLSearchParams, name: string): string {
  const value = source instanceof URLSearchParams ? source.get(name) : source[name];
  if (value === undefined || value === null || value === '') throw missing(name);
  return String(value);
}

/** An experiment as `experiments/get` answers it. */
function experimentJson(dialect: RestDialect, experiment: StoredExperiment): Json {
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    last_update_time: experiment.lastUpdateTime,
    creation_time: experiment.creationTime,
    ...(dialect.experimentWorkspace === undefined ? {} : { workspace: dialect.experimentWorkspace }),
  };
}

function experimentOrThrow(dialect: RestDialect, id: string): StoredExperiment {
  const experiment = dialect.store.experiments.get(id);
  if (experiment === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', dialect.messages.noExperimentId(id));
  return experiment;
}

export function getExperimentByName(dialect: RestDialect, exchange: Exchange): Reply {
  const name = requiredParam(exchange.query, 'experiment_name');
  const experiment = dialect.store.experimentByName(name);
  if (experiment === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', dialect.messages.noExperimentName(name));
  return prettyJson({ experiment: experimentJson(dialect, experiment) });
}

export function getExperiment(dialect: RestDialect, exchange: Exchange): Reply {
  return prettyJson({ experiment: experimentJson(dialect, experimentOrThrow(dialect, requiredParam(exchange.query, 'experiment_id'))) });
}

/** `experiments/search`: active experiments, most recently updated first (MLflow's default order); filter and paging ignored. */
export function searchExperiments(dialect: RestDialect, exchange: Exchange): Reply {
  const maxResults = Number(requestJson(exchange).max_results ?? 1000);
  const experiments = [...dialect.store.experiments.values()]
    .filter((experiment) => experiment.lifecycleStage === 'active')
    .sort((a, b) => b.lastUpdateTime - a.lastUpdateTime || Number(a.experimentId) - Number(b.experimentId))
    .slice(0, maxResults);
  // MLflow leaves an empty repeated field out of the JSON.
  return prettyJson(experiments.length > 0 ? { experiments: experiments.map((e) => experimentJson(dialect, e)) } : {});
}

export function createExperiment(dialect: RestDialect, exchange: Exchange): Reply {
  const name = requiredParam(requestJson(exchange), 'name');
  const refusal = dialect.checkNewExperimentName?.(name);
  if (refusal !== undefined) throw refusal;
  if (dialect.store.experimentByName(name) !== undefined) {
    throw new MlflowError('RESOURCE_ALREADY_EXISTS', dialect.messages.duplicateExperiment(name));
  }
  return prettyJson({ experiment_id: dialect.store.createExperiment(name).experimentId });
}

export function deleteExperiment(dialect: RestDialect, exchange: Exchange): Reply {
  const experiment = experimentOrThrow(dialect, requiredParam(requestJson(exchange), 'experiment_id'));
  dialect.store.setLifecycle(experiment.experimentId, 'deleted');
  return prettyJson({});
}

export function restoreExperiment(dialect: RestDialect, exchange: Exchange): Reply {
  const experiment = experimentOrThrow(dialect, requiredParam(requestJson(exchange), 'experiment_id'));
  if (experiment.lifecycleStage === 'active') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Cannot restore an active experiment. Experiment id: ${experiment.experimentId}`);
  }
  dialect.store.setLifecycle(experiment.experimentId, 'active');
  return prettyJson({});
}

const TRACE_STATES = ['STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'];

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/**
 * Reads trace_info as protobuf's JSON parser does: fields in the order sent, and at the first
 * field of the wrong type the parse stops, so that field and every later one keep their
 * defaults (observed: an integer request_time still answers 200, storing 1970 and losing
 * metadata and tags).
 */
function parseTraceInfo(raw: Json): { info: Partial<TraceInfo>; requestMs?: number; durationMs?: number } {
  const info: Partial<TraceInfo> = {};
  let requestMs: number | undefined;
  let durationMs: number | undefined;
  for (const [key, value] of Object.entries(raw)) {
    let ok = true;
    switch (key) {
      case 'trace_id':
      case 'client_request_id':
      case 'request_preview':
      case 'response_preview':
        ok = typeof value === 'string';
        if (ok) info[key] = value as string;
        break;
      case 'trace_location':
        ok = typeof value === 'object' && value !== null;
        if (ok) info.trace_location = value as TraceInfo['trace_location'];
        break;
      case 'request_time': {
        const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
        ok = !Number.isNaN(ms);
        if (ok) requestMs = ms;
        break;
      }
      case 'execution_duration': {
        const match = typeof value === 'string' ? /^(\d+)(?:\.(\d{1,9}))?s$/.exec(value) : null;
        ok = match !== null;
        if (match !== null) durationMs = Number(match[1]) * 1000 + Number((match[2] ?? '').padEnd(3, '0').slice(0, 3));
        break;
      }
      case 'state':
        ok =
          (typeof value === 'string' && TRACE_STATES.includes(value)) || (typeof value === 'number' && TRACE_STATES[value] !== undefined);
        if (ok) info.state = typeof value === 'number' ? TRACE_STATES[value] : (value as string);
        break;
      case 'trace_metadata':
      case 'tags':
        ok = isStringMap(value);
        if (ok) info[key] = { ...(value as Record<string, string>) };
        break;
      default:
        break;
    }
    if (!ok) break;
  }
  return { info, ...(requestMs === undefined ? {} : { requestMs }), ...(durationMs === undefined ? {} : { durationMs }) };
}

/** StartTraceV3: registers a REST-logged trace. The server derives nothing from spans here. */
export function startTraceV3(dialect: RestDialect, exchange: Exchange): Reply {
  const body = requestJson(exchange);
  const trace = body.trace;
  if (typeof trace !== 'object' || trace === null) throw missing('trace');
  const rawInfo = (trace as Json).trace_info;
  const { info, requestMs, durationMs } = parseTraceInfo(typeof rawInfo === 'object' && rawInfo !== null ? (rawInfo as Json) : {});
  const experimentId = String(info.trace_location?.mlflow_experiment?.experiment_id ?? '');
  const experiment = dialect.store.experiments.get(experimentId);
  if (experiment === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', dialect.messages.startTraceNoExperiment(experimentId));
  const traceId = info.trace_id ?? '';
  const existing = dialect.store.getTrace(traceId);
  const stored: TraceInfo = {
    trace_id: traceId,
    ...(info.client_request_id === undefined ? {} : { client_request_id: info.client_request_id }),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
    request_time: timestampJson(requestMs ?? 0),
    ...(requestMs === undefined ? {} : { execution_duration: durationJson(durationMs ?? 0) }),
    state: info.state ?? 'STATE_UNSPECIFIED',
    ...(info.trace_metadata === undefined || Object.keys(info.trace_metadata).length === 0 ? {} : { trace_metadata: info.trace_metadata }),
    tags: { ...existing?.info.tags, ...info.tags, 'mlflow.artifactLocation': dialect.traceArtifactLocation(experiment, traceId) },
    ...(info.request_preview ? { request_preview: info.request_preview } : {}),
    ...(info.response_preview ? { response_preview: info.response_preview } : {}),
  };
  if (existing !== undefined) {
    if (dialect.resendTrace === 'flask-500') return flaskInternalError();
    // The SQL store updates metadata rows in place and fails on keys the new call drops.
    const dropped = Object.keys(existing.info.trace_metadata ?? {}).filter((key) => stored.trace_metadata?.[key] === undefined);
    if (dropped.length > 0) return flaskInternalError();
  }
  dialect.store.putRestTrace(stored);
  return prettyJson({ trace: { trace_info: stored } });
}

export function getTraceInfoV3(dialect: RestDialect, traceId: string): Reply {
  const trace = dialect.store.getTrace(traceId);
  if (trace === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID '${traceId}' not found.`);
  return prettyJson({ trace: { trace_info: trace.info } });
}

export function searchTracesV3(dialect: RestDialect, exchange: Exchange): Reply {
  const body = requestJson(exchange);
  const locations = Array.isArray(body.locations) ? (body.locations as Json[]) : [];
  const experimentIds = [
    ...locations.map((location) => String((location.mlflow_experiment as Json | undefined)?.experiment_id ?? '')),
    ...(Array.isArray(body.experiment_ids) ? body.experiment_ids.map(String) : []),
  ].filter((id) => id !== '');
  if (experimentIds.length === 0) throw new MlflowError('INVALID_PARAMETER_VALUE', 'At least one location must be specified.');
  const maxResults = body.max_results === undefined ? 100 : Number(body.max_results);
  const result = searchTraces(
    experimentIds.flatMap((id) => dialect.store.traces(id)),
    {
      maxResults,
      orderBy: Array.isArray(body.order_by) ? body.order_by.map(String) : [],
      ...(typeof body.filter === 'string' ? { filter: body.filter } : {}),
      ...(typeof body.page_token === 'string' ? { pageToken: body.page_token } : {}),
    },
  );
  return prettyJson({
    ...(result.traces.length === 0 ? {} : { traces: result.traces.map((trace) => trace.info) }),
    ...(result.nextPageToken === undefined ? {} : { next_page_token: result.nextPageToken }),
  });
}
