import type { Endpoint } from '../agent-client/endpoints.ts';
import { ANSWER_TIMEOUT_MS } from '../agent-client/post-question.ts';
import { tokenRefused } from '../agent-client/token-refused.ts';
import { linkServerTraces, prepareServerRunLink, type ServerRunLink } from '../agent-client/server-run-link.ts';
import { fetchServerHealth } from '../agent-client/server-health.ts';
import { loadConfig } from '../config/load-config.ts';
import type { LoadConfigOptions, ResolvedConfig } from '../config/types.ts';
import type { HealthInfo } from '../server/api-schemas.ts';
import type { PipelineReport } from '../pipeline/trace-pipeline.ts';
import { evaluateAnswer, evaluationTotals, type EvaluationTotals } from '../eval/evaluate.ts';
import type { QuestionEvaluation } from '../eval/evaluation-types.ts';
import type { OpenJudge } from '../eval/judge/open-judge.ts';
import { askQuestions, type SuiteResult } from './ask-questions.ts';
import type { SuiteQuestion } from './question-file.ts';
import { readBackSource } from './read-back-source.ts';
import { openResultsFile } from './results-file.ts';
import { evaluationSummary, resultRow } from './result-rows.ts';
import type { SpawnedServer } from './spawned-server.ts';
import { suiteTotals, type SuiteTotals } from './suite-totals.ts';
import { verifyTraces, type VerifyReport } from './verify-traces.ts';
import { commandLine } from '../util/invocation.ts';

const serverDownHint = () => `start it with \`${commandLine('serve')}\` in another terminal (or pass its address with --url), or run with --spawn`;

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
  /** With `spawn`: what became of the traces this process exported. */
  /** What became of the spawned server's traces; undefined when tracing was disabled. */
  exportReport?: PipelineReport | undefined;
  spawned: boolean;
}

/**
 * A whole run: the server (checked, or spawned for the run), every question, the results file as it
 * goes, the spawned server stopped and its traces flushed, then each trace read back when asked.
 * Anything that would stop a run (server down, nothing to read traces back from) fails before the first question.
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteRun> {
  const { hooks } = options;
  // The server, the agent and the tracer load only when this process runs them.
  let spawned: SpawnedServer | undefined = options.spawn ? await (await import('./spawned-server.ts')).spawnServer(options.config) : undefined;
  let judging: OpenJudge | undefined;
  try {
    const server = spawned ? new URL(spawned.url) : options.server;
    const url = server.href.replace(/\/+$/, '');
    const health = await fetchServerHealth(server, serverDownHint());
    const config = spawned?.runtime.config ?? (await loadConfig({ ...options.config, purpose: 'app' }));
    const lookup = options.verify ? readBackSource(health, config) : undefined;
    // A spawned server links its own traces (startAppRuntime); a running one is linked from here.
    const pendingLink = spawned ? undefined : await prepareServerRunLink(config, health, url);
    // The judge's model calls are traced like the agent's, so it needs the tracer only a runtime has.
    if (options.judge) judging = await (await import('../eval/judge/open-judge.ts')).openJudge(spawned?.runtime, options.config);
    const output = options.output && (await openResultsFile(options.output.path, options.output.shownAs));
    const notices = [...(spawned?.runtime.notices ?? []), ...(judging?.notices ?? [])];
    await hooks?.started?.({ url, total: options.questions.length * options.repeat, notices });
    let results: SuiteResult[];
    const evaluations: QuestionEvaluation[] = [];
    try {
      results = await askQuestions({
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
      await output?.write({ evaluation: evaluationSummary(evaluationTotals(evaluations), options.minPassRate) });
    } finally {
      hooks?.allAnswered?.();
      await output?.close();
    }
    const unauthorized = results.find((result) => result.httpStatus === 401);
    if (unauthorized) throw tokenRefused(url, unauthorized.error ?? 'HTTP 401', { flag: true });
    evaluations.sort((a, b) => a.index - b.index);
    const run: SuiteRun = {
      url,
      endpoint: options.endpoint,
      health,
      config,
      results,
      totals: suiteTotals(results),
      evaluations,
      evaluationTotals: evaluationTotals(evaluations),
      spawned: options.spawn,
    };
    if (spawned) {
      // The traces must have left before they can be read back.
      run.exportReport = await spawned.stop();
      spawned = undefined;
    }
    const traceIds = results.flatMap((r) => (r.traceId ? [r.traceId] : []));
    if (pendingLink) run.runLink = await linkServerTraces(pendingLink, traceIds);
    if (lookup) {
      await hooks?.verifying?.();
      run.verify = await verifyTraces(traceIds, lookup);
    }
    return run;
  } finally {
    await judging?.close();
    await spawned?.stop();
  }
}
