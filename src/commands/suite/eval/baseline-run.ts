import { isMlflowDestination, type ResolvedConfig } from '../../../config/types.ts';
import { ExitCode, ExpectedError } from '../../../errors.ts';
import { connectToTracking } from '../../../mlflow/connect.ts';
import { getExperiment, getExperimentByName } from '../../../mlflow/experiments.ts';
import type { MlflowHttp } from '../../../mlflow/http.ts';
import { downloadRunArtifact } from '../../../mlflow/run-artifacts.ts';
import { getRun, searchRuns, type MlflowRun } from '../../../mlflow/runs.ts';
import { commandLine } from '../../../invocation.ts';
import { parseResultLines, type RunSide } from './compare-runs.ts';
import { RESULTS_ARTIFACT } from '../../../destination/senders/evaluation-senders.ts';
import { SUITE_TAG } from './suite-mlflow-run.ts';
import type { BaselineRef } from './compare-flags.ts';

/** How many recent suite runs `previous` looks through for one other than this run. */
const PREVIOUS_CANDIDATES = 10;

export interface Baseline extends RunSide {
  runId: string;
  name?: string;
}

/** Checked before the first question: comparing needs an MLflow to read the baseline from. */
export function comparisonClient(config: ResolvedConfig): MlflowHttp {
  const connection = connectToTracking(config);
  if (!connection || !isMlflowDestination(config.destination)) {
    throw new ExpectedError('--compare reads the baseline run from MLflow, and no MLflow is configured', {
      exitCode: ExitCode.config,
      hint: 'set MLFLOW_TRACKING_URI (or pass --tracking-uri), or leave --compare out',
    });
  }
  return connection.http;
}

/** The baseline run with its metrics, params and per-question verdicts (from its `suite-results.jsonl`). */
export async function readBaseline(
  http: MlflowHttp,
  config: ResolvedConfig,
  ref: BaselineRef,
  excludeRunId: string | undefined,
): Promise<Baseline> {
  const run = ref.kind === 'run' ? await getRun(http, ref.runId) : await previousRun(http, config, excludeRunId);
  if (!run || run.lifecycleStage === 'deleted') {
    const what = ref.kind === 'run' ? `MLflow run ${ref.runId}` : 'the run';
    throw new ExpectedError(`--compare: ${what} ${run ? 'is deleted' : `does not exist on ${http.baseUrl}`}`, {
      exitCode: ExitCode.usage,
      hint: "check the run id (the run's page in MLflow shows it), or compare with 'previous'",
    });
  }
  const text = await downloadRunArtifact(http, run.artifactUri, RESULTS_ARTIFACT);
  return {
    runId: run.runId,
    ...(run.name && { name: run.name }),
    metrics: run.metrics,
    params: run.params,
    results: text === undefined ? [] : parseResultLines(text),
  };
}

async function previousRun(http: MlflowHttp, config: ResolvedConfig, excludeRunId: string | undefined): Promise<MlflowRun | undefined> {
  const ref = config.experiment;
  const experiment = ref.kind === 'id' ? await getExperiment(http, ref.id.value) : await getExperimentByName(http, ref.name.value);
  const runs = experiment
    ? await searchRuns(http, {
        experimentIds: [experiment.experimentId],
        filter: `tags.\`${SUITE_TAG}\` = 'true' AND attributes.status = 'FINISHED'`,
        orderBy: ['attributes.start_time DESC'],
        maxResults: PREVIOUS_CANDIDATES,
      })
    : [];
  const previous = runs.find((run) => run.runId !== excludeRunId);
  if (!previous) {
    throw new ExpectedError('--compare previous: the experiment has no finished suite run to compare with', {
      exitCode: ExitCode.usage,
      hint: `run \`${commandLine('suite')}\` once without --compare to make the baseline (a run below --min-pass-rate ends FAILED and is not one)`,
    });
  }
  return previous;
}
