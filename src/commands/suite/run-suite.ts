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
  type SuiteRunTarget,
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
  /**
   * Aborted by a person's Ctrl-C: no further question is asked, nothing more is read back or
   * compared, and a run stopped before its last question ends KILLED with the answers it has, its
   * traces and scores kept as for any run.
   */
  interrupt?: AbortSignal;
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
  /** Stopped by a person (the signal `interrupt` was aborted with): how many of the questions were asked. */
  interrupted?: { by: NodeJS.Signals; asked: number; of: number };
  comparison?: Comparison;
}

/**
 * A whole run: the server (checked, or spawned for the run), every question, the results file as it
 * goes, the spawned server stopped and its traces flushed, then each trace read back when asked.
 * Anything that would stop a run (server down, nothing to read traces back from) fails before the first question.
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteRun> {
  const plan = await planRun(options);
  const answered: Answered = { results: [], evaluations: [] };
  let spawned: SpawnedServer | undefined;
  let judging: OpenJudge | undefined;
  try {
    // The server, the agent and the tracer load only when this process runs them.
    spawned = options.spawn ? await (await import('./spawned-server.ts')).spawnServer({ ...options.config, flags: plan.flags }) : undefined;
    const server = spawned ? new URL(spawned.url) : options.server;
    const url = server.href.replace(/\/+$/, '');
    const health = plan.runningHealth ?? (await fetchServerHealth(server, serverDownHint()));
    const config = spawned?.runtime.config ?? plan.runConfig;
    const lookup = options.verify ? readBackSource(health, config) : undefined;
    // A spawned server links its own traces (startAppRuntime); a running one is linked from here.
    const pendingLink = spawned ? undefined : await prepareServerRunLink(config, health, url);
    // The judge's model calls are traced like the agent's, so it needs the tracer only a runtime has.
    if (options.judge) judging = await (await import('./eval/judge/open-judge.ts')).openJudge(spawned?.runtime, options.config);
    const notices = [...(spawned?.runtime.notices ?? []), ...(judging?.notices ?? [])];
    await options.hooks?.started?.({ url, total: options.questions.length * options.repeat, notices });
    // A spawned server takes no token; a running one may want the one configured here.
    const authToken = spawned ? undefined : config.authToken?.value;
    await askAll(options, { server, authToken, judge: judging?.judge }, answered);
    if (answered.stopped) throw runStopped(answered.stopped, url, health, options.spawn);
    answered.evaluations.sort((a, b) => a.index - b.index);
    // Stopped before its last question, the run is incomplete; stopped later, what is left to check is skipped.
    const stoppedEarly = stopped(options);
    // The traces must have left before they can be read back, or carry scores.
    const exportReport = await spawned?.stop();
    spawned = undefined;
    const traceIds = traceIdsOf(answered.results);
    const runLink = pendingLink && (await linkServerTraces(pendingLink, traceIds));
    const verify = lookup && !stopped(options) ? await verifyAll(options, traceIds, lookup) : undefined;
    if (!stopped(options)) await waitUntilInMlflow(options, plan, health, traceIds, verify);
    const outcome = runOutcome(options, answered, health, stoppedEarly ? 'KILLED' : undefined);
    const mlflowRun = await finishSuiteRun(plan.scoresConfig, plan.target, outcome);
    const comparison =
      !stopped(options) &&
      plan.baseline &&
      compareRuns(
        plan.baseline,
        { metrics: outcome.metrics, params: outcome.params, results: parseResultLines(outcome.results) },
        options.compare!.tolerance,
      );
    return {
      url,
      endpoint: options.endpoint,
      health,
      config,
      results: answered.results,
      totals: suiteTotals(answered.results),
      spawned: options.spawn,
      evaluations: answered.evaluations,
      evaluationTotals: evaluationTotals(answered.evaluations),
      mlflowRun,
      ...(exportReport && { exportReport }),
      ...(runLink && { runLink }),
      ...(verify && { verify }),
      ...(comparison && { comparison }),
      ...(stopped(options) && {
        interrupted: {
          by: options.interrupt!.reason as NodeJS.Signals,
          asked: answered.results.length,
          of: options.questions.length * options.repeat,
        },
      }),
    };
  } catch (error) {
    // A run that broke ends FAILED, with what it had, by the same path (or waits on disk for it).
    if (plan.target.runId && plan.target.ownRun) {
      await finishSuiteRun(plan.scoresConfig, plan.target, runOutcome(options, answered, undefined, 'FAILED')).catch(() => undefined);
    }
    throw error;
  } finally {
    await judging?.close();
    await spawned?.stop();
  }
}

function stopped(options: SuiteOptions): boolean {
  return options.interrupt?.aborted === true;
}

interface RunPlan {
  /** The running server's health, checked before anything else; undefined with `spawn`. */
  runningHealth: HealthInfo | undefined;
  configured: ResolvedConfig;
  baseline: Awaited<ReturnType<typeof readBaseline>> | undefined;
  target: SuiteRunTarget;
  /** The configuration with the suite's run in it: what a spawned server and the read-back use. */
  runConfig: ResolvedConfig;
  /** Where the scores wait: a running server's own store, whatever this configuration's default. */
  scoresConfig: ResolvedConfig;
  flags: LoadConfigOptions['flags'];
}

async function planRun(options: SuiteOptions): Promise<RunPlan> {
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
  const serverStore = runningHealth?.tracing.store_dir;
  const scoresConfig = serverStore
    ? { ...configured, storeDir: { value: serverStore, source: { kind: 'derived', from } } as const }
    : configured;
  const flags = runConfig.runId ? { ...options.config.flags, runId: runConfig.runId.value } : options.config.flags;
  return { runningHealth, configured, baseline, target, runConfig, scoresConfig, flags };
}

/** What the questions brought so far: kept whole when a run breaks, so it ends with what it had. */
interface Answered {
  results: SuiteResult[];
  evaluations: QuestionEvaluation[];
  stopped?: RunStop;
}

async function askAll(
  options: SuiteOptions,
  to: { server: URL; authToken: string | undefined; judge: OpenJudge['judge'] | undefined },
  answered: Answered,
): Promise<void> {
  const output = options.output && (await openResultsFile(options.output.path, options.output.shownAs));
  try {
    const asked = await askQuestions({
      server: to.server,
      endpoint: options.endpoint,
      questions: options.questions,
      repeat: options.repeat,
      concurrency: options.concurrency,
      timeoutMs: ANSWER_TIMEOUT_MS,
      ...(options.interrupt && { signal: options.interrupt }),
      ...(options.sessionId !== undefined && { sessionId: options.sessionId }),
      ...(to.authToken && { authToken: to.authToken }),
      onResult: async (result, question) => {
        options.hooks?.answered?.(result);
        // Judged as it comes, so a results file cut short still holds each written answer's verdict.
        const evaluation = await evaluateAnswer({ ...result, endpoint: options.endpoint }, question.expect, to.judge);
        answered.evaluations.push(evaluation);
        await output?.write(resultRow(result, evaluation));
      },
    });
    answered.results = asked.results;
    if (asked.stopped) answered.stopped = asked.stopped;
    await output?.write({ evaluation: evaluationSummary(evaluationTotals(answered.evaluations), options.minPassRate) });
  } finally {
    options.hooks?.allAnswered?.();
    await output?.close();
  }
}

/** A running server delivers in the background: a score can only be logged on a trace MLflow has. */
async function waitUntilInMlflow(
  options: SuiteOptions,
  plan: RunPlan,
  health: HealthInfo,
  traceIds: string[],
  verified: VerifyReport | undefined,
): Promise<void> {
  const sendsToMlflow = health.tracing.route === 'otlp' || health.tracing.route === 'rest';
  const http = plan.target.place && connectToTracking(plan.configured)?.http;
  if (options.spawn || !http || !sendsToMlflow || verified?.source === 'mlflow') return;
  const spansFrom = plan.configured.destination.kind === 'databricks' ? 'databricks' : 'mlflow';
  await verifyTraces(traceIds, { kind: 'mlflow', source: mlflowTraceSource(http, spansFrom) });
}

async function verifyAll(options: SuiteOptions, traceIds: string[], lookup: NonNullable<ReturnType<typeof readBackSource>>) {
  await options.hooks?.verifying?.();
  return verifyTraces(traceIds, lookup);
}

function traceIdsOf(results: readonly SuiteResult[]): string[] {
  return results.flatMap((r) => (r.traceId ? [r.traceId] : []));
}

/** The setting that says where each provider's model answers. */
const PROVIDER_ADDRESS: Partial<Record<string, string>> = { databricks: 'DATABRICKS_HOST', anthropic: 'ANTHROPIC_BASE_URL' };

/** One message for a run that stopped early, whatever number of questions it asked. */
function runStopped(stop: RunStop, url: string, health: HealthInfo, spawned: boolean): ExpectedError {
  const detail = stop.result.error ?? `HTTP ${stop.result.httpStatus}`;
  if (stop.reason === 'token-refused') return tokenRefused(url, detail, { flag: true });
  const { provider, model } = health.llm;
  const settings = `${PROVIDER_ADDRESS[provider] ?? 'OPENAI_BASE_URL'} and the network to it`;
  return new ExpectedError(detail.replace(/^HTTP 502 \S+: /, ''), {
    exitCode: ExitCode.unreachable,
    hint: spawned
      ? `the LLM is ${provider} ${model}: check ${settings}; or answer with the built-in model: --provider offline`
      : `the server's LLM is ${provider} ${model}: check its ${settings}, or start it with --provider offline`,
  });
}

function runOutcome(
  options: SuiteOptions,
  answered: Answered,
  health: HealthInfo | undefined,
  /** Forced (a broken run, one a person stopped); else from the pass rate and the bar. */
  endStatus?: 'FAILED' | 'KILLED',
): SuiteRunOutcome {
  const totals = evaluationTotals(answered.evaluations);
  return {
    params: suiteParams({
      endpoint: options.endpoint,
      provider: health?.llm.provider ?? 'unknown',
      model: health?.llm.model ?? 'unknown',
      concurrency: options.concurrency,
      repeat: options.repeat,
      questions: options.questions,
    }),
    metrics: suiteMetrics(suiteTotals(answered.results), totals),
    evaluations: answered.evaluations,
    results: resultsJsonl(answered.results, answered.evaluations),
    traceIds: traceIdsOf(answered.results),
    endStatus: endStatus ?? (meetsBar(totals, options.minPassRate) ? 'FINISHED' : 'FAILED'),
    endedAt: Date.now(),
  };
}
