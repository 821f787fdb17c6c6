import { createHash } from 'node:crypto';
import { isMlflowDestination, type ExperimentRef, type ResolvedConfig } from '../config/types.ts';
import { ExpectedError } from '../errors.ts';
import { checkConfiguredRun } from '../mlflow/check-run.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import { ensureAppExperiment } from '../mlflow/ensure-experiment.ts';
import { UnreachableError } from '../mlflow/errors.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import { createRun } from '../mlflow/runs.ts';
import { experimentUrl } from '../mlflow/ui-links.ts';
import { destinationKey } from '../pipeline/destinations/destination-key.ts';
import { EvaluationStore, type SuiteRunStep } from '../pipeline/store/evaluation-store.ts';
import { VERSION } from '../version.ts';
import { deliverEvaluations, type EvaluationDelivery } from './deliver-evaluations.ts';
import type { SuiteResult } from '../suite/ask-questions.ts';
import type { QuestionEvaluation, Score } from './evaluation-types.ts';

/** Tag every suite run carries: `--compare previous` finds the last one by it. */
export const SUITE_TAG = 'otel-mlflow.suite';

/** Where a suite run is logged, decided before the first question. */
export interface SuiteRunTarget {
  /** The place key rows wait for; undefined: kept local-only, for a later `traces push`. */
  destination?: string;
  http?: MlflowHttp;
  experimentId?: string;
  /** The MLflow run (created now, or given with --run-id); absent when MLflow could not be reached. */
  runId?: string;
  /** Created by this suite, so ended by it. */
  ownRun: boolean;
  name: string;
  startedAt: number;
  tags: Record<string, string>;
  /** Why there is no run yet (MLflow down): the run is created when the scores are delivered. */
  problem?: string;
}

/** What became of the run in MLflow, for the summary and `--json`. */
export interface SuiteMlflowRun {
  runId: string | null;
  url: string | null;
  /** delivered: in MLflow; pending: on disk until a push or the next run reaches MLflow; local: no MLflow configured. */
  state: 'delivered' | 'pending' | 'refused' | 'local';
  ownRun: boolean;
  endStatus: 'FINISHED' | 'FAILED';
  problem?: string;
  notes: string[];
  scores: { delivered: number; pending: number; refused: number };
  scoreProblems: string[];
  storeDir: string;
  /** What was logged (or waits to be): the summary's numbers, as MLflow has them. */
  params: Record<string, string>;
  metrics: Record<string, number>;
}

/** The place key suite runs and scores wait for: the run's own id is not part of where they wait. */
export function evaluationDestinationKey(config: ResolvedConfig): string | undefined {
  const { runId: _ignored, ...withoutRun } = config;
  return destinationKey(withoutRun);
}

/**
 * Before the first question: the run the suite's traces are linked to, created in the experiment
 * (or the one given with --run-id, checked). MLflow down: no run yet, the suite goes on and the run
 * waits on disk with its scores. Without an MLflow destination, or without `experiment` (where the
 * traces go), the scores stay local-only.
 */
export async function openSuiteRun(config: ResolvedConfig, experiment: ExperimentRef | undefined, now = Date.now()): Promise<SuiteRunTarget> {
  const name = `suite-${new Date(now).toISOString().slice(0, 19).replace(/:/g, '-')}`;
  const tags = { 'mlflow.runName': name, [SUITE_TAG]: 'true', 'mlflow.source.name': 'otel-mlflow suite', 'mlflow.source.type': 'LOCAL' };
  const base = { name, startedAt: now, tags };
  const connection = connectToTracking(config);
  // No experiment to put the run in (a running server that keeps its traces elsewhere): local-only.
  if (!connection || !isMlflowDestination(config.destination) || !experiment) return { ...base, ownRun: !config.runId };
  const destination = evaluationDestinationKey(config)!;
  const { http } = connection;
  try {
    if (config.runId) {
      const run = (await checkConfiguredRun({ ...config, experiment }, http))!;
      return { ...base, destination, http, experimentId: run.experimentId, runId: run.runId, ownRun: false };
    }
    const experimentId = (await ensureAppExperiment(http, experiment)).experiment.experimentId;
    const run = await createRun(http, { experimentId, name, startTime: now, tags });
    return { ...base, destination, http, experimentId, runId: run.runId, ownRun: true };
  } catch (error) {
    if (!(error instanceof UnreachableError)) throw error;
    return { ...base, destination, http, ownRun: !config.runId, ...(config.runId && { runId: config.runId.value }), problem: error.message };
  }
}

/** The configuration with the suite's run, so the traces (spawned server, `--url` linking) are linked to it. */
export function withSuiteRun(config: ResolvedConfig, target: SuiteRunTarget): ResolvedConfig {
  if (!target.runId || config.runId) return config;
  return { ...config, runId: { value: target.runId, source: { kind: 'derived', from: "the suite's run" } } };
}

export interface SuiteRunOutcome {
  params: Record<string, string>;
  metrics: Record<string, number>;
  evaluations: readonly QuestionEvaluation[];
  /** `suite-results.jsonl`. */
  results: string;
  traceIds: string[];
  endStatus: 'FINISHED' | 'FAILED';
  endedAt: number;
}

/**
 * After the answers (and the traces flushed): the run and every score kept on disk, then delivered
 * by the one path `traces push` also takes. Nothing is lost when MLflow is down: it all waits in the
 * store, and the result says so.
 */
export async function finishSuiteRun(storeDir: string, target: SuiteRunTarget, outcome: SuiteRunOutcome, config: ResolvedConfig): Promise<SuiteMlflowRun> {
  const store = EvaluationStore.open(storeDir);
  try {
    const scores = outcome.evaluations.flatMap((evaluation) =>
      evaluation.traceId ? evaluation.scores.map((score: Score) => ({ traceId: evaluation.traceId!, score })) : [],
    );
    // A run that exists already (created before the questions, or given by id) needs what comes after.
    const doneSteps: SuiteRunStep[] = target.runId ? ['create'] : [];
    const record = store.addSuiteRun(
      {
        destination: target.destination ?? null,
        runId: target.runId ?? null,
        ownRun: target.ownRun,
        name: target.name,
        startedAt: target.startedAt,
        endedAt: outcome.endedAt,
        params: outcome.params,
        metrics: outcome.metrics,
        tags: target.tags,
        traceIds: outcome.traceIds,
        results: outcome.results,
        endStatus: outcome.endStatus,
        doneSteps,
      },
      scores,
    );
    const base = { ownRun: target.ownRun, endStatus: outcome.endStatus, storeDir, notes: [] as string[], params: outcome.params, metrics: outcome.metrics };
    if (!target.destination || !target.http) {
      return { ...base, runId: null, url: null, state: 'local', scores: { delivered: 0, pending: scores.length, refused: 0 }, scoreProblems: [] };
    }
    let experimentId = target.experimentId;
    let delivery: EvaluationDelivery | undefined;
    let problem = target.problem;
    try {
      experimentId ??= (await ensureAppExperiment(target.http, config.experiment)).experiment.experimentId;
      delivery = await deliverEvaluations(store, { http: target.http, destination: target.destination, experimentId });
    } catch (error) {
      // Recorded already: whatever MLflow answered, the run and its scores wait on disk, and the person is told.
      if (!(error instanceof ExpectedError)) throw error;
      problem = error.message;
    }
    const mine = delivery?.runs.find((run) => run.id === record.id);
    const runId = mine?.runId ?? target.runId ?? null;
    const url = runId && experimentId ? runUrl(config, experimentId, runId) : null;
    return {
      ...base,
      runId,
      url,
      state: mine?.state ?? 'pending',
      ...((mine?.problem ?? problem) !== undefined && { problem: mine?.problem ?? problem }),
      notes: mine?.notes ?? [],
      scores: delivery?.scores ?? { delivered: 0, pending: scores.length, refused: 0 },
      scoreProblems: delivery?.scoreProblems ?? (problem ? [problem] : []),
    };
  } finally {
    store.close();
  }
}

/** `suite-results.jsonl`: each asked question's result with its verdict and scores, one JSON line each. */
export function resultsJsonl(results: readonly SuiteResult[], evaluations: readonly QuestionEvaluation[]): string {
  const byIndex = new Map(evaluations.map((evaluation) => [evaluation.index, evaluation]));
  return results
    .map((result) => {
      const evaluation = byIndex.get(result.index);
      return `${JSON.stringify({ ...result, passed: evaluation?.passed ?? false, scores: evaluation?.scores ?? [] })}\n`;
    })
    .join('');
}

/** The run's page in MLflow's UI (or the Databricks workspace's). */
export function runUrl(config: ResolvedConfig, experimentId: string, runId: string): string | null {
  const experiment = experimentUrl(config.destination, experimentId);
  return experiment ? `${experiment}/runs/${runId}` : null;
}

/** `question_set_digest`: the questions and their expectations, so two runs of the same set compare. */
export function questionSetDigest(questions: readonly object[]): string {
  return createHash('sha256').update(canonicalJson(questions)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Params of a suite run, as `mlflow.log_params` would log them. */
export function suiteParams(input: { endpoint: string; provider: string; model: string; concurrency: number; repeat: number; questions: readonly object[] }): Record<string, string> {
  return {
    endpoint: input.endpoint,
    provider: input.provider,
    model: input.model,
    concurrency: String(input.concurrency),
    repeat: String(input.repeat),
    question_set_digest: questionSetDigest(input.questions),
    tool_version: VERSION,
  };
}
