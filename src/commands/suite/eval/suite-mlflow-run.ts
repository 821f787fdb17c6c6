import { createHash } from 'node:crypto';
import type { ExperimentRef, ResolvedConfig } from '../../../config/types.ts';
import { isPassingFailure } from '../../../destination/background-resolution.ts';
import { APP_EXPERIMENT_POLICY, ensureTargetExperiment } from '../../../destination/resolve.ts';
import { isExperimentTarget, targetKey, targetOf, withoutRun, type ExperimentTarget } from '../../../destination/target.ts';
import { ExpectedError } from '../../../errors.ts';
import { checkRun } from '../../../mlflow/check-run.ts';
import { connectToTracking } from '../../../mlflow/connect.ts';
import { createRun } from '../../../mlflow/runs.ts';
import { runUrl } from '../../../mlflow/ui-links.ts';
import { EvaluationStore } from '../../../pipeline/store/evaluation-store.ts';
import { TraceStore } from '../../../pipeline/store/trace-store.ts';
import { VERSION } from '../../../version.ts';
import type { SuiteResult } from '../ask-questions.ts';
import type { QuestionEvaluation } from './evaluation-types.ts';
import type { Score, SuiteRunEndStatus } from '../../../destination/evaluation-items.ts';

/** Tag every suite run carries: `--compare previous` finds the last one by it. */
export const SUITE_TAG = 'otel-mlflow.suite';

/** Where a suite run is logged, decided before the first question. */
export interface SuiteRunTarget {
  /** The experiment the run and its scores wait for; absent: kept local-only, for a later `traces push`. */
  place?: ExperimentTarget;
  /** The experiment's id, once MLflow said it. */
  experimentId?: string;
  /** The MLflow run (created now, or given with --run-id); absent when MLflow could not be reached. */
  runId?: string;
  /** Created by this suite, so ended by it. */
  ownRun: boolean;
  name: string;
  startedAt: number;
  tags: Record<string, string>;
  /** Why there is no run yet (MLflow down): the run is created when the outbox delivers it. */
  problem?: string;
}

/** What became of the run in MLflow, for the summary and `--json`. */
export interface SuiteMlflowRun {
  runId: string | null;
  url: string | null;
  /** delivered: in MLflow; pending: on disk until a push or the next run reaches MLflow; local: no MLflow configured. */
  state: 'delivered' | 'pending' | 'refused' | 'local';
  ownRun: boolean;
  endStatus: SuiteRunEndStatus;
  problem?: string;
  notes: string[];
  scores: { delivered: number; pending: number; refused: number };
  scoreProblems: string[];
  storeDir: string;
  /** What was logged (or waits to be): the summary's numbers, as MLflow has them. */
  params: Record<string, string>;
  metrics: Record<string, number>;
}

/** How long the run and its scores may take to reach MLflow before they are left waiting on disk. */
const EVALUATION_DEADLINE_MS = 60_000;

/**
 * Before the first question: the run the suite's traces are linked to, created in the experiment
 * (or the one given with --run-id, checked). MLflow down: no run yet, the suite goes on and the run
 * waits on disk with its scores. Without an MLflow destination, or without `experiment` (where the
 * traces go), the scores stay local-only.
 */
export async function openSuiteRun(
  config: ResolvedConfig,
  experiment: ExperimentRef | undefined,
  now = Date.now(),
): Promise<SuiteRunTarget> {
  const name = `suite-${new Date(now).toISOString().slice(0, 19).replace(/:/g, '-')}`;
  const tags = { 'mlflow.runName': name, [SUITE_TAG]: 'true', 'mlflow.source.name': 'otel-mlflow suite', 'mlflow.source.type': 'LOCAL' };
  const base = { name, startedAt: now, tags };
  const target = experiment && targetOf(config, experiment);
  const connection = connectToTracking(config);
  // No experiment to put the run in (a running server that keeps its traces elsewhere): local-only.
  if (!connection || !isExperimentTarget(target)) return { ...base, ownRun: !config.runId };
  const place = withoutRun(target) as ExperimentTarget;
  const { http } = connection;
  try {
    if (target.run) {
      const run = await checkRun(http, target.run, target.experiment);
      return { ...base, place, experimentId: run.experimentId, runId: run.runId, ownRun: false };
    }
    const experimentId = (await ensureTargetExperiment(http, target, APP_EXPERIMENT_POLICY)).experiment.experimentId;
    const run = await createRun(http, { experimentId, name, startTime: now, tags });
    return { ...base, place, experimentId, runId: run.runId, ownRun: true };
  } catch (error) {
    if (!isPassingFailure(error)) throw error;
    return { ...base, place, ownRun: !target.run, ...(target.run && { runId: target.run.value }), problem: (error as Error).message };
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
  endStatus: SuiteRunEndStatus;
  endedAt: number;
}

/**
 * After the answers (and the traces flushed): the run and every score kept on disk, then delivered
 * by the outbox, as `traces push` and every running server deliver them. Nothing is lost when MLflow
 * is down: it all waits in the store, and the result says so.
 */
export async function finishSuiteRun(config: ResolvedConfig, target: SuiteRunTarget, outcome: SuiteRunOutcome): Promise<SuiteMlflowRun> {
  const storeDir = config.storeDir.value;
  const traces = TraceStore.open(storeDir, { maxBytes: config.storeMaxBytes.value });
  const evaluations = EvaluationStore.open(storeDir);
  // The senders load only here: a suite that stops early never needs them.
  const { Outbox } = await import('../../../pipeline/outbox.ts');
  const outbox = new Outbox({ traces, evaluations, auth: config.auth });
  try {
    const scores = outcome.evaluations.flatMap((evaluation) =>
      evaluation.traceId ? evaluation.scores.map((score: Score) => ({ traceId: evaluation.traceId!, score })) : [],
    );
    const record = evaluations.addSuiteRun(
      {
        destination: target.place ? targetKey(target.place) : null,
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
        // A run that exists already (created before the questions, or given by id) needs what comes after.
        doneSteps: target.runId ? ['create'] : [],
      },
      scores,
    );
    const base = { ownRun: target.ownRun, endStatus: outcome.endStatus, storeDir, params: outcome.params, metrics: outcome.metrics };
    if (!target.place) {
      return {
        ...base,
        runId: null,
        url: null,
        state: 'local',
        notes: [],
        scores: { delivered: 0, pending: scores.length, refused: 0 },
        scoreProblems: [],
      };
    }
    let { experimentId, problem } = target;
    if (!experimentId) {
      const http = connectToTracking(config)!.http;
      try {
        experimentId = (await ensureTargetExperiment(http, target.place, APP_EXPERIMENT_POLICY)).experiment.experimentId;
      } catch (error) {
        // Recorded already: whatever MLflow answered, the run and its scores wait on disk, and the person is told.
        if (!(error instanceof ExpectedError)) throw error;
        problem = error.message;
      }
    }
    if (experimentId) {
      outbox.addEvaluationDestination({ kind: target.place.kind, target: target.place, experiment: { id: experimentId } });
      await outbox.flush(EVALUATION_DEADLINE_MS);
    }
    return {
      ...base,
      ...evaluationOutcome(evaluations, record.id, problem),
      ...runPage(target.place, experimentId, evaluations.suiteRun(record.id)?.runId),
    };
  } finally {
    await outbox.close(0);
  }
}

/** Where a run and its scores stand, from the store: what MLflow took, what waits and why, what it refused. */
export function evaluationOutcome(
  store: EvaluationStore,
  id: string,
  problem?: string,
): Pick<SuiteMlflowRun, 'runId' | 'state' | 'problem' | 'notes' | 'scores' | 'scoreProblems'> {
  const run = store.suiteRun(id)!;
  const scores = { delivered: 0, pending: 0, refused: 0 };
  const problems = new Set<string>();
  for (const score of store.scoresOfRun(id)) {
    scores[score.state]++;
    if (score.state !== 'delivered') problems.add(score.lastAnswer ?? problem ?? 'MLflow has not been reached yet');
  }
  const why = run.state === 'delivered' ? undefined : (run.lastAnswer ?? problem);
  return {
    runId: run.runId,
    state: run.state,
    ...(why !== undefined && { problem: why }),
    notes: run.state === 'delivered' && run.lastAnswer ? [run.lastAnswer] : [],
    scores,
    scoreProblems: [...problems],
  };
}

function runPage(place: ExperimentTarget, experimentId: string | undefined, runId: string | null | undefined): { url: string | null } {
  return { url: experimentId && runId ? runUrl(place, experimentId, runId) : null };
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

/** `question_set_digest`: the questions and their expectations, so two runs of the same set compare. */
function questionSetDigest(questions: readonly object[]): string {
  return createHash('sha256').update(canonicalJson(questions)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Params of a suite run, as `mlflow.log_params` would log them. */
export function suiteParams(input: {
  endpoint: string;
  provider: string;
  model: string;
  concurrency: number;
  repeat: number;
  questions: readonly object[];
}): Record<string, string> {
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
