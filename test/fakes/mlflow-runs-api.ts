import type { Exchange, Reply } from './exchange.ts';
import { MlflowError } from './mlflow-errors.ts';
import { prettyJson, requestJson, requiredParam, type RestDialect } from './mlflow-rest-api.ts';
import type { StoredRun } from './trace-store.ts';

/**
 * The run routes a tracing client needs (mlflow/server/handlers.py): runs/get and runs/create, and
 * traces/link-to-run, which writes trace-to-run links without checking that either end exists.
 */

/** MLflow's LinkTracesToRun limit. */
const MAX_TRACES_PER_LINK = 100;

function runJson(run: StoredRun): Record<string, unknown> {
  return {
    info: {
      run_uuid: run.runId,
      experiment_id: run.experimentId,
      run_name: run.name,
      user_id: '',
      status: 'RUNNING',
      start_time: run.startTime,
      artifact_uri: run.artifactUri,
      lifecycle_stage: run.lifecycleStage,
      run_id: run.runId,
    },
    data: { tags: [{ key: 'mlflow.runName', value: run.name }] },
    inputs: {},
  };
}

/** Deleted runs are answered too, with their lifecycle stage. */
export function getRun(dialect: RestDialect, exchange: Exchange): Reply {
  const runId = requiredParam(exchange.query, 'run_id');
  const run = dialect.store.runs.get(runId);
  if (run === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
  return prettyJson({ run: runJson(run) });
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
  const name = typeof body.run_name === 'string' && body.run_name !== '' ? body.run_name : undefined;
  return prettyJson({ run: runJson(dialect.store.createRun(experimentId, name)) });
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
