import type { Endpoint } from '../../agent/client/endpoints.ts';
import { ANSWER_TIMEOUT_MS } from '../../agent/client/post-question.ts';
import { tokenRefused } from '../../agent/client/token-refused.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { linkServerTraces, prepareServerRunLink, type ServerRunLink } from '../../agent/client/server-run-link.ts';
import { fetchServerHealth } from '../../agent/client/server-health.ts';
import { loadConfig } from '../../config/load-config.ts';
import type { LoadConfigOptions, ResolvedConfig } from '../../config/types.ts';
import type { HealthInfo } from '../../agent/api-schemas.ts';
import type { PipelineReport } from '../../pipeline/trace-pipeline.ts';
import { evaluateAnswer, evaluationTotals, meetsBar, type EvaluationTotals } from './eval/evaluate.ts';
import type { QuestionEvaluation } from './eval/evaluation-types.ts';
import type { OpenJudge } from './eval/judge/open-judge.ts';
import { askQuestions, type RunStop, type SuiteResult } from './ask-questions.ts';
import type { SuiteQuestion } from './question-file.ts';
import { readBackSource } from './read-back-source.ts';
import { mlflowTraceSource } from '../../read-back/trace-source.ts';
import { openResultsFile } from './results-file.ts';
import { evaluationSummary, resultRow } from './result-rows.ts';
import type { SpawnedServer } from './spawned-server.ts';
import { connectToTracking } from '../../mlflow/connect.ts';
import { suiteTotals, type SuiteTotals } from './suite-totals.ts';
import { verifyTraces, type VerifyReport } from './verify-traces.ts';
import { commandLine } from '../../invocation.ts';
import { comparisonClient, readBaseline } from './eval/baseline-run.ts';
import type { BaselineRef, Tolerance } from './eval/compare-flags.ts';
import { compareRuns, parseResultLines, type Comparison } from './eval/compare-runs.ts';
import { suiteMetrics } from './eval/suite-metrics.ts';
import {
  finishSuiteRun,
  openSuiteRun,
  resultsJsonl,
  suiteParams,
  withSuiteRun,
  type SuiteMlflowRun,
  type SuiteRunOutcome,
} from './eval/suite-mlflow-run.ts';

const serverDownHint = () =>
  `start it with \`${commandLine('serve')}\` in another terminal (or pass its address with --url), or run with --spawn`;

export interface SuiteOptions {
  config: Omit<LoadConfigOptions, 'purpose'>;
  /** The running server; ignored with `spawn`. */
  server: URL;
  spawn: boolean;
  endpoint: Endpoint;
  questions: readonly SuiteQuestion[];
  repeat: number;
  concurrency: number;
  sessionId?: string;
  verify: boolean;
  /** `--judge`: an LLM judges each answer too (refused with the offline model). */
  judge?: boolean;
  /** The share of questions that must pass, as the results file records it. */
  minPassRate: number;
  /** `--output`: the NDJSON file's path, and its name as the person gave it. */
  output?: { path: string; shownAs: string };
  /** `--compare`: the run to compare with, read before the first question. */
  compare?: { baseline: BaselineRef; tolerance: Tolerance };
  /** What a terminal shows while the run goes on. */
  hooks?: {
    started?(run: { url: string; total: number; notices: string[] }): void | Promise<void>;
    answered?(result: SuiteResult): void;
    allAnswered?(): void;
    verifying?(): void | Promise<void>;
  };
}

export interface SuiteRun {
  /** The server's address, as the questions went to it. */
  url: string;
  endpoint: Endpoint;
  health: HealthInfo;
  config: ResolvedConfig;
  results: SuiteResult[];
  totals: SuiteTotals;
  /** Each result's verdict, in the same order. */
  evaluations: QuestionEvaluation[];
  evaluationTotals: EvaluationTotals;
  verify?: VerifyReport;
  /** With a run id and a running server (`--url`): the traces this process linked to the run. */
  runLink?: ServerRunLink;
  /** What became of the spawned server's traces; undefined when tracing was disabled. */
  exportReport?: PipelineReport | undefined;
  spawned: boolean;
  /** The suite as an MLflow run: created, logged and ended, or waiting on disk with its scores. */
  mlflowRun: SuiteMlflowRun;
  comparison?: Comparison;
}

/**
 * A whole run: the server (checked, or spawned for the run), every question, the results file as it
 * goes, the spawned server stopped and its traces flushed, then each trace read back when asked.
 * Anything that would stop a run (server down, nothing to read traces back from) fails before the first question.
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteRun> {
  const { hooks } = options;
  // A running server is checked before a run is made for its answers.
  const runningHealth = options.spawn ? undefined : await fetchServerHealth(options.server, serverDownHint());
  // The run exists before the server that makes the traces, so they are linked to it as they go.
  const configured = await loadConfig({ ...options.config, purpose: 'app' });
  const baseline = options.compare && (await readBaseline(comparisonClient(configured), configured, options.compare.baseline, undefined));
  // A running server's traces go to the experiment it reports: the run must be in that one.
  const serverExperiment = runningHealth?.tracing.experiment;
  const from = `the server at ${options.server.href.replace(/\/+$/, '')}`;
  const target = await openSuiteRun(
    configured,
    runningHealth
      ? serverExperiment && { kind: 'id', id: { value: serverExperiment.id, source: { kind: 'derived', from } } }
      : configured.experiment,
  );
  const runConfig = withSuiteRun(configured, target);
  // Scores go with their traces: into a running server's own store, whatever this configuration's default.
  const serverStore = runningHealth?.tracing.store_dir;
  const scoresConfig = serverStore
    ? { ...configured, storeDir: { value: serverStore, source: { kind: 'derived', from } } as const }
    : configured;
  const flags = runConfig.runId ? { ...options.config.flags, runId: runConfig.runId.value } : options.config.flags;
  let spawned: SpawnedServer | undefined;
  let judging: OpenJudge | undefined;
  let results: SuiteResult[] = [];
  let stopped: RunStop | undefined;
  const evaluations: QuestionEvaluation[] = [];
  try {
    // The server, the agent and the tracer load only when this process runs them.
    spawned = options.spawn ? await (await import('./spawned-server.ts')).spawnServer({ ...options.config, flags }) : undefined;
    const server = spawned ? new URL(spawned.url) : options.server;
    const url = server.href.replace(/\/+$/, '');
    const health = runningHealth ?? (await fetchServerHealth(server, serverDownHint()));
    const config = spawned?.runtime.config ?? runConfig;
    const lookup = options.verify ? readBackSource(health, config) : undefined;
    // A spawned server links its own traces (startAppRuntime); a running one is linked from here.
    const pendingLink = spawned ? undefined : await prepareServerRunLink(config, health, url);
    // The judge's model calls are traced like the agent's, so it needs the tracer only a runtime has.
    if (options.judge) judging = await (await import('./eval/judge/open-judge.ts')).openJudge(spawned?.runtime, options.config);
    const output = options.output && (await openResultsFile(options.output.path, options.output.shownAs));
    const notices = [...(spawned?.runtime.notices ?? []), ...(judging?.notices ?? [])];
    await hooks?.started?.({ url, total: options.questions.length * options.repeat, notices });
    try {
      const asked = await askQuestions({
        server,
        endpoint: options.endpoint,
        questions: options.questions,
        repeat: options.repeat,
        concurrency: options.concurrency,
        timeoutMs: ANSWER_TIMEOUT_MS,
        ...(options.sessionId !== undefined && { sessionId: options.sessionId }),
        // A spawned server takes no token; a running one may want the one configured here.
        ...(!spawned && config.authToken && { authToken: config.authToken.value }),
        onResult: async (result, question) => {
          hooks?.answered?.(result);
          // Judged as it comes, so a results file cut short still holds each written answer's verdict.
          const evaluation = await evaluateAnswer({ ...result, endpoint: options.endpoint }, question.expect, judging?.judge);
          evaluations.push(evaluation);
          await output?.write(resultRow(result, evaluation));
        },
      });
      results = asked.results;
      stopped = asked.stopped;
      await output?.write({ evaluation: evaluationSummary(evaluationTotals(evaluations), options.minPassRate) });
    } finally {
      hooks?.allAnswered?.();
      await output?.close();
    }
    if (stopped) throw runStopped(stopped, url, health, options.spawn);
    evaluations.sort((a, b) => a.index - b.index);
    const evaluation = { evaluations, totals: evaluationTotals(evaluations) };
    const totals = suiteTotals(results);
    let exportReport: PipelineReport | undefined;
    if (spawned) {
      // The traces must have left before they can be read back, or carry scores.
      exportReport = await spawned.stop();
      spawned = undefined;
    }
    const traceIds = results.flatMap((r) => (r.traceId ? [r.traceId] : []));
    const runLink = pendingLink && (await linkServerTraces(pendingLink, traceIds));
    let verify: VerifyReport | undefined;
    if (lookup) {
      await hooks?.verifying?.();
      verify = await verifyTraces(traceIds, lookup);
    }
    // A running server delivers in the background: a score can only be logged on a trace MLflow has.
    const sendsToMlflow = health.tracing.route === 'otlp' || health.tracing.route === 'rest';
    const http = target.place && connectToTracking(configured)?.http;
    if (!options.spawn && http && sendsToMlflow && verify?.source !== 'mlflow') {
      const spansFrom = configured.destination.kind === 'databricks' ? 'databricks' : 'mlflow';
      await verifyTraces(traceIds, { kind: 'mlflow', source: mlflowTraceSource(http, spansFrom) });
    }
    const outcome = runOutcome(options, { results, evaluation, totals, health, traceIds, endStatus: undefined });
    const mlflowRun = await finishSuiteRun(scoresConfig, target, outcome);
    const comparison =
      baseline &&
      compareRuns(
        baseline,
        { metrics: outcome.metrics, params: outcome.params, results: parseResultLines(outcome.results) },
        options.compare!.tolerance,
      );
    return {
      url,
      endpoint: options.endpoint,
      health,
      config,
      results,
      totals,
      spawned: options.spawn,
      evaluations: evaluation.evaluations,
      evaluationTotals: evaluation.totals,
      mlflowRun,
      ...(exportReport && { exportReport }),
      ...(runLink && { runLink }),
      ...(verify && { verify }),
      ...(comparison && { comparison }),
    };
  } catch (error) {
    // A run that broke ends FAILED, with what it had, by the same path (or waits on disk for it).
    if (target.runId && target.ownRun) {
      const outcome = runOutcome(options, {
        results,
        evaluation: { evaluations, totals: evaluationTotals(evaluations) },
        totals: suiteTotals(results),
        health: undefined,
        traceIds: results.flatMap((r) => (r.traceId ? [r.traceId] : [])),
        endStatus: 'FAILED',
      });
      await finishSuiteRun(scoresConfig, target, outcome).catch(() => undefined);
    }
    throw error;
  } finally {
    await judging?.close();
    await spawned?.stop();
  }
}

/** One message for a run that stopped early, whatever number of questions it asked. */
function runStopped(stop: RunStop, url: string, health: HealthInfo, spawned: boolean): ExpectedError {
  const detail = stop.result.error ?? `HTTP ${stop.result.httpStatus}`;
  if (stop.reason === 'token-refused') return tokenRefused(url, detail, { flag: true });
  const { provider, model } = health.llm;
  const settings = provider === 'databricks' ? 'DATABRICKS_HOST and the network to it' : 'OPENAI_BASE_URL and the network to it';
  return new ExpectedError(detail.replace(/^HTTP 502 \S+: /, ''), {
    exitCode: ExitCode.unreachable,
    hint: spawned
      ? `the LLM is ${provider} ${model}: check ${settings}; or answer with the built-in model: --provider offline`
      : `the server's LLM is ${provider} ${model}: check its ${settings}, or start it with --provider offline`,
  });
}

interface FinishInput {
  results: SuiteResult[];
  evaluation: { evaluations: QuestionEvaluation[]; totals: EvaluationTotals };
  totals: SuiteTotals;
  health: HealthInfo | undefined;
  traceIds: string[];
  /** Forced (a broken run); else from the pass rate and the bar. */
  endStatus: 'FINISHED' | 'FAILED' | undefined;
}

function runOutcome(options: SuiteOptions, input: FinishInput): SuiteRunOutcome {
  const { evaluation } = input;
  const bar = options.minPassRate;
  return {
    params: suiteParams({
      endpoint: options.endpoint,
      provider: input.health?.llm.provider ?? 'unknown',
      model: input.health?.llm.model ?? 'unknown',
      concurrency: options.concurrency,
      repeat: options.repeat,
      questions: options.questions,
    }),
    metrics: suiteMetrics(input.totals, evaluation.totals),
    evaluations: evaluation.evaluations,
    results: resultsJsonl(input.results, evaluation.evaluations),
    traceIds: input.traceIds,
    endStatus: input.endStatus ?? (meetsBar(evaluation.totals, bar) ? 'FINISHED' : 'FAILED'),
    endedAt: Date.now(),
  };
}
