import { describeSource } from '../config/mask.ts';
import { isMlflowDestination, type ExperimentRef, type ResolvedConfig, type Sourced } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { getExperiment } from './experiments.ts';
import type { MlflowHttp } from './http.ts';
import { getRun, type MlflowRun } from './runs.ts';

const KEEPS_NO_EXPERIMENT = { local: 'the local store', collector: 'an OTLP collector', 'unity-catalog': 'a Unity Catalog table' } as const;

/** A run id given where traces go to no MLflow experiment: refused before anything starts. */
export function refuseRunWithoutExperiment(config: ResolvedConfig): void {
  const runId = config.runId;
  const destination = config.destination;
  if (!runId || isMlflowDestination(destination)) return;
  throw new ExpectedError(
    `MLflow run ${runId.value} (from ${describeSource(runId.source)}) can only be linked to traces kept in an MLflow experiment, and ${KEEPS_NO_EXPERIMENT[destination.kind]} keeps none`,
    {
      exitCode: ExitCode.config,
      hint: 'set MLFLOW_TRACKING_URI to the server the run is on, or leave the run out (unset MLFLOW_RUN_ID, drop --run-id)',
    },
  );
}

/**
 * The run traces get linked to, checked before anything is created or sent: it exists, is not
 * deleted, and belongs to the experiment the traces go to. MLflow's `search_traces(run_id=…)` looks
 * for a run's traces in the run's own experiment only, so a link across experiments finds nothing.
 */
export async function checkRun(http: MlflowHttp, runId: Sourced<string>, target: ExperimentRef): Promise<MlflowRun> {
  const label = `MLflow run ${runId.value} (from ${describeSource(runId.source)})`;
  const run = await getRun(http, runId.value);
  if (!run) {
    throw new ExpectedError(`${label} does not exist on ${http.baseUrl}`, {
      exitCode: ExitCode.config,
      hint: "check the run id (the run's page in MLflow shows it) and that MLFLOW_TRACKING_URI is the server the run is on",
    });
  }
  if (run.lifecycleStage === 'deleted') {
    throw new ExpectedError(`${label} is deleted`, {
      exitCode: ExitCode.config,
      hint: `restore it (\`mlflow runs restore --run-id ${run.runId}\`), or link to another run`,
    });
  }
  const runExperiment = await getExperiment(http, run.experimentId);
  const sameExperiment = target.kind === 'id' ? run.experimentId === target.id.value : runExperiment?.name === target.name.value;
  if (!sameExperiment) {
    const theirs = runExperiment ? `'${runExperiment.name}' (id ${run.experimentId})` : `id ${run.experimentId}`;
    const ours = target.kind === 'id' ? `id ${target.id.value}` : `'${target.name.value}'`;
    const oursFrom = describeSource(target.kind === 'id' ? target.id.source : target.name.source);
    throw new ExpectedError(`${label} is in experiment ${theirs}, but the traces go to experiment ${ours} (from ${oursFrom})`, {
      exitCode: ExitCode.config,
      hint: `MLflow finds a run's traces in the run's own experiment only: pass --experiment-id ${run.experimentId}, or a run of experiment ${ours}`,
    });
  }
  return run;
}
