import type { ResolvedConfig } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { checkRun } from '../../mlflow/check-run.ts';
import { connectToTracking } from '../../mlflow/connect.ts';
import type { MlflowHttp } from '../../mlflow/http.ts';
import type { HealthInfo } from '../api-schemas.ts';
import { linkIfAccepted } from '../../destination/run-link.ts';

/** What became of linking a run's traces: how many, or why not. */
export interface ServerRunLink {
  runId: string;
  linked: number;
  problem?: string;
}

export interface PendingRunLink {
  http: MlflowHttp;
  runId: string;
}

/**
 * A running server (`ask --url`, `suite --url`) makes the traces, so with a run id this process
 * links the ones it is answered with. Checked before the first question, against the experiment
 * the server reports sending to.
 */
export async function prepareServerRunLink(
  config: ResolvedConfig,
  health: HealthInfo,
  serverUrl: string,
): Promise<PendingRunLink | undefined> {
  if (!config.runId) return undefined;
  const experiment = health.tracing.experiment;
  const connection = connectToTracking(config);
  if (!experiment || !connection) {
    const why = experiment
      ? 'no MLflow is configured here to link them in'
      : `the server sends its traces to ${health.tracing.destination}`;
    throw new ExpectedError(`the run id links traces in an MLflow experiment, but ${why}`, {
      exitCode: ExitCode.config,
      hint: 'set MLFLOW_TRACKING_URI (and its credentials) as the server has them, or run with --spawn',
    });
  }
  const serverExperiment = {
    kind: 'id',
    id: { value: experiment.id, source: { kind: 'derived', from: `the server at ${serverUrl}` } },
  } as const;
  const run = await checkRun(connection.http, config.runId, serverExperiment);
  return { http: connection.http, runId: run.runId };
}

export async function linkServerTraces(pending: PendingRunLink, traceIds: readonly string[]): Promise<ServerRunLink> {
  const { runId } = pending;
  const outcome = await linkIfAccepted<{ ok: boolean; reason?: string }>(
    { ok: true },
    pending.http,
    { runId, via: 'link-to-run' },
    traceIds,
  );
  return outcome.ok ? { runId, linked: traceIds.length } : { runId, linked: 0, problem: outcome.reason ?? 'not linked' };
}
