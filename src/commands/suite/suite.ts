import { resolve } from 'node:path';
import type { ChalkInstance } from 'chalk';
import type { Ora } from 'ora';
import { ENDPOINT_PATHS } from '../../agent/client/endpoints.ts';
import type { ServerRunLink } from '../../agent/client/server-run-link.ts';
import type { CommandContext } from '../../cli/context.ts';
import { createPainter, writeJson, writeLine, writeNotices } from '../../cli/output.ts';
import { ExitCode, ExpectedError, signalExitCode } from '../../errors.ts';
import { onStopRequestThenNow } from '../../cli/stop-requests.ts';
import { BUILTIN_QUESTIONS } from './builtin-questions.ts';
import { loadQuestionFile } from './question-file.ts';
import { runSuite, type SuiteRun } from './run-suite.ts';
import { DEFAULT_TOLERANCE } from './eval/compare-flags.ts';
import { formatNumber, type Comparison } from './eval/compare-runs.ts';
import type { SuiteMlflowRun } from './eval/suite-mlflow-run.ts';
import { summaryTable, totalsLines } from './summary-table.ts';
import type { VerifyReport } from './verify-traces.ts';
import { summarizeDelivery, paintedSummary } from '../../cli/delivery-summary.ts';
import type { PipelineReport } from '../../pipeline/trace-pipeline.ts';
import { meetsBar } from './eval/evaluate.ts';
import { evaluationSummary, resultRow } from './result-rows.ts';
import { plural } from '../../util/plural.ts';
import { commandLine, setStoreDir } from '../../invocation.ts';
import type { SuiteOptions } from './suite-options.ts';

/** Where a terminal's width is unknown (a pipe, a file), the summary still reads at 80 columns. */
const DEFAULT_WIDTH = 80;

export async function run(ctx: CommandContext, options: SuiteOptions): Promise<number> {
  const { endpoint, concurrency, repeat, minPassRate, session: sessionId, file } = options;
  if (sessionId !== undefined && endpoint !== 'chat') {
    throw new ExpectedError(`--session groups /chat requests into one MLflow session; ${ENDPOINT_PATHS[endpoint]} takes no session id`, {
      exitCode: ExitCode.usage,
      hint: 'use --session with --endpoint chat, or leave it out',
    });
  }
  const questions = file ? await loadQuestionFile(resolve(ctx.cwd, file), file) : BUILTIN_QUESTIONS;
  const output = options.output === undefined ? undefined : { path: resolve(ctx.cwd, options.output), shownAs: options.output };
  if (options.tolerance !== undefined && options.compare === undefined) {
    throw new ExpectedError('--tolerance says how much worse --compare allows, and there is no --compare', {
      exitCode: ExitCode.usage,
      hint: 'add --compare <run id> (or --compare previous), or leave --tolerance out',
    });
  }
  const compare = options.compare && { baseline: options.compare, tolerance: options.tolerance ?? DEFAULT_TOLERANCE };
  const paint = createPainter(ctx);
  const spinner = ctx.interactive && !ctx.globals.json ? await createSpinner(ctx) : undefined;
  const counts = { total: 0, answered: 0, failed: 0 };
  const interrupt = new AbortController();
  // The first request ends the run with the answers so far, which a killed process could not.
  const stopListening = onStopRequestThenNow(['SIGINT', 'SIGTERM'], (signal) => {
    spinner?.stop();
    writeLine(ctx.stderr, paint.yellow(`${signal}: no further questions; ending the run with the answers so far (again to exit now)`));
    interrupt.abort(signal);
  });

  const suite = await runSuite({
    config: { cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags },
    server: options.url,
    spawn: options.spawn,
    endpoint,
    questions,
    repeat,
    concurrency,
    ...(sessionId !== undefined && { sessionId }),
    verify: options.verify,
    judge: options.judge,
    minPassRate,
    ...(output && { output }),
    ...(compare && { compare }),
    interrupt: interrupt.signal,
    hooks: {
      started({ url, total, notices }) {
        counts.total = total;
        if (ctx.globals.json) return;
        writeNotices(ctx.stderr, notices, paint.dim);
        const times = repeat > 1 ? ` × ${repeat}` : '';
        writeLine(
          ctx.stdout,
          `Asking ${plural(questions.length, 'question')}${times} at ${url}${ENDPOINT_PATHS[endpoint]}, ${concurrency} at a time`,
        );
        spinner?.start(`0/${total} answered`);
      },
      answered(result) {
        counts.answered++;
        if (result.status === 'failed') counts.failed++;
        if (spinner) spinner.text = `${counts.answered}/${counts.total} answered${counts.failed ? `, ${counts.failed} failed` : ''}`;
      },
      allAnswered: () => spinner?.stop(),
      verifying: () => void spinner?.start('reading the traces back'),
    },
  }).finally(() => {
    spinner?.stop();
    stopListening();
  });

  // A running server keeps its traces (and so the scores) in its own store: the hints must name it.
  const serverStore = suite.spawned ? undefined : suite.health?.tracing.store_dir;
  if (serverStore && serverStore !== suite.config.storeDir.value) setStoreDir(serverStore);
  if (ctx.globals.json) writeJson(ctx.stdout, toJson(suite, minPassRate));
  else renderSummary(ctx, paint, suite, repeat, minPassRate);
  return exitCode(suite, minPassRate);
}

/** Progress on a terminal only: anywhere else nothing is animated. */
async function createSpinner(ctx: CommandContext): Promise<Ora> {
  const ora = (await import('ora')).default;
  return ora({ stream: ctx.stdout, color: 'cyan' });
}

function renderSummary(ctx: CommandContext, paint: ChalkInstance, suite: SuiteRun, repeat: number, minPassRate: number): void {
  const columns = (ctx.stdout as { columns?: number }).columns;
  const width = ctx.interactive && columns ? columns : DEFAULT_WIDTH;
  const lines = [
    '',
    ...interruptedLines(paint, suite),
    ...summaryTable(suite.results, suite.evaluations, width, paint),
    '',
    ...totalsLines(suite.totals, suite.evaluationTotals, minPassRate, { style: paint, repeat, width }),
    ...verifyLines(paint, suite.verify),
    ...exportLines(paint, suite.exportReport),
    ...runLinkLines(paint, suite.runLink),
    ...mlflowRunLines(paint, suite.mlflowRun),
    ...comparisonLines(paint, suite.comparison),
    '',
    ...whereTracesAre(paint, suite),
  ];
  for (const line of lines) writeLine(ctx.stdout, line);
}

function interruptedLines(paint: ChalkInstance, suite: SuiteRun): string[] {
  if (!suite.interrupted) return [];
  const { by, asked, of } = suite.interrupted;
  const line =
    asked < of
      ? `stopped after ${asked} of ${plural(of, 'question')}: the table and the run hold those answered`
      : `stopped by ${by} after the last answer: the checks still to come were skipped`;
  return [paint.yellow(line), ''];
}

function verifyLines(paint: ChalkInstance, report: VerifyReport | undefined): string[] {
  if (!report) return [];
  const head = `read back: ${report.found} of ${plural(report.found + report.missing, 'trace')} found in ${report.where}`;
  const missing = report.traces.filter((t) => !t.found).map((t) => `  ${t.traceId}: ${t.problem ?? 'missing'}`);
  return [report.missing > 0 ? paint.red(head) : paint.green(head), ...missing];
}

function exportLines(paint: ChalkInstance, report: PipelineReport | undefined): string[] {
  if (!report) return [];
  const summary = summarizeDelivery(report);
  return [paintedSummary(paint, summary)];
}

function runLinkLines(paint: ChalkInstance, link: ServerRunLink | undefined): string[] {
  if (!link) return [];
  return link.problem
    ? [paint.red(`traces not linked to MLflow run ${link.runId}: ${link.problem}`)]
    : [`linked ${link.linked} traces to MLflow run ${link.runId}`];
}

/** Where the run is in MLflow, or why it waits on disk and how it gets there. */
function mlflowRunLines(paint: ChalkInstance, run: SuiteMlflowRun): string[] {
  const push = paint.cyan(commandLine('traces push'));
  const scores = run.scores;
  if (scores.delivered + scores.pending + scores.refused === 0) {
    // Scores live on traces: none were recorded (tracing off, or not sampled), so none are kept.
    if (run.state === 'local') return ['no scores kept: no trace was recorded (tracing is off, or the requests were not sampled)'];
  }
  if (run.state === 'local') {
    return [
      `${plural(scores.pending, 'score')} kept with the traces (${paint.cyan(commandLine('traces show <id>'))});`,
      `  ${push} sends them and the run to MLflow`,
    ];
  }
  const lines: string[] = [];
  if (run.state === 'delivered') {
    const ended = run.ownRun ? `, ended ${run.endStatus}` : ' (given by id: left running)';
    lines.push(`MLflow run ${run.runId}${ended}`);
    if (run.url) lines.push(paint.cyan(run.url));
  } else {
    const what = run.runId ? `MLflow run ${run.runId} not completed` : 'MLflow run not created';
    lines.push(paint.yellow(`${what}: ${run.problem ?? 'MLflow did not answer'}`));
    if (run.state === 'pending') lines.push(paint.dim(`  it waits in ${run.storeDir}: ${commandLine('traces push')} sends it`));
  }
  for (const note of run.notes) lines.push(paint.dim(`  ${note}`));
  if (scores.delivered > 0) lines.push(`${plural(scores.delivered, 'score')} logged as assessments on the traces`);
  if (scores.pending > 0) {
    lines.push(paint.yellow(`${plural(scores.pending, 'score')} not logged yet: ${run.scoreProblems[0] ?? 'MLflow did not answer'}`));
    lines.push(paint.dim(`  they wait in ${run.storeDir}: ${commandLine('traces push')} sends them`));
  }
  if (scores.refused > 0)
    lines.push(paint.red(`${plural(scores.refused, 'score')} refused by MLflow (kept on disk): ${run.scoreProblems.at(-1) ?? ''}`));
  return lines;
}

/** Per metric (arrow for the better direction) and per question that changed. */
function comparisonLines(paint: ChalkInstance, comparison: Comparison | undefined): string[] {
  if (!comparison) return [];
  const { baseline } = comparison;
  const lines = ['', `Compared with run ${baseline.name ? `${baseline.name} ` : ''}(${baseline.runId}):`];
  for (const m of comparison.metrics) {
    const mark = {
      better: paint.green('better'),
      worse: m.regression ? paint.red('REGRESSION') : paint.yellow('worse'),
      same: 'same',
      new: 'new',
      gone: 'gone',
    }[m.verdict];
    const arrow = m.better === 'higher' ? '↑' : '↓';
    lines.push(`  ${`${m.metric} ${arrow}`.padEnd(22)} ${formatNumber(m.before).padStart(9)} → ${formatNumber(m.after).padEnd(9)} ${mark}`);
  }
  if (comparison.questionSetChanged) lines.push(paint.dim('  the baseline asked another question set (its digest differs)'));
  for (const q of comparison.questions) {
    const text = `  ${q.question}: ${q.before} → ${q.after}`;
    lines.push(q.after === 'failed' ? paint.red(text) : q.after === 'passed' ? paint.green(text) : text);
  }
  lines.push(
    comparison.regressions.length > 0 ? paint.red(`regression: ${comparison.regressions.join('; ')}`) : paint.green('no regression'),
  );
  return lines;
}

/** How to look at the traces: the experiment's page, or the local store's commands. */
function whereTracesAre(paint: ChalkInstance, suite: SuiteRun): string[] {
  const { tracing } = suite.health;
  if (tracing.route === 'local') {
    return [
      suite.spawned ? `Traces are in the local store ${suite.config.storeDir.value}` : 'Traces are in the local store of the server.',
      `  look at them:   ${paint.cyan(commandLine('traces list'))}, ${paint.cyan(commandLine('traces show <id>'))}`,
      `  send to MLflow: set MLFLOW_TRACKING_URI, then ${paint.cyan(commandLine('traces push'))}`,
    ];
  }
  // Not "went to": nothing went while the destination did not answer.
  const report = suite.exportReport;
  if (tracing.route === 'pending' || (report && report.delivered === 0 && report.pending > 0)) {
    return [
      `Traces are meant for ${tracing.destination};`,
      `  they wait in the local store until it answers: ${paint.cyan(commandLine('traces push'))} sends them`,
    ];
  }
  if (tracing.experiment?.url) return [`Experiment: ${paint.cyan(tracing.experiment.url)}`];
  return [`Traces went to ${tracing.destination}`];
}

/** Stable keys for scripts; `passed` and `failed` count verdicts, which without expectations are answers. */
function toJson(suite: SuiteRun, minPassRate: number) {
  const { totals } = suite;
  const verdicts = new Map(suite.evaluations.map((e) => [e.index, e]));
  return {
    ok: exitCode(suite, minPassRate) === ExitCode.ok,
    url: suite.url,
    endpoint: suite.endpoint,
    total: totals.total,
    passed: suite.evaluationTotals.passed,
    failed: suite.evaluationTotals.total - suite.evaluationTotals.passed,
    latencyMs: totals.latencyMs,
    tokens: totals.tokens,
    results: suite.results.map((r) => resultRow(r, verdicts.get(r.index))),
    evaluation: evaluationSummary(suite.evaluationTotals, minPassRate),
    ...(suite.verify && { verify: suite.verify }),
    ...(suite.runLink && { run: { id: suite.runLink.runId, linked: suite.runLink.linked, problem: suite.runLink.problem ?? null } }),
    ...(suite.comparison && { comparison: suite.comparison }),
    ...(suite.interrupted && { interrupted: suite.interrupted }),
    ...(suite.exportReport && {
      export: {
        exported: suite.exportReport.destination ? suite.exportReport.delivered : suite.exportReport.stored,
        pending: suite.exportReport.pending,
        failed: suite.exportReport.dead + suite.exportReport.refused,
        reasons: exportReasons(suite.exportReport),
        store: suite.exportReport.storeDir,
      },
    }),
    mlflowRun: {
      id: suite.mlflowRun.runId,
      url: suite.mlflowRun.url,
      state: suite.mlflowRun.state,
      endStatus: suite.mlflowRun.endStatus,
      problem: suite.mlflowRun.problem ?? null,
      params: suite.mlflowRun.params,
      metrics: suite.mlflowRun.metrics,
      scores: suite.mlflowRun.scores,
    },
  };
}

function exitCode(suite: SuiteRun, minPassRate: number): number {
  if (suite.interrupted) return signalExitCode(suite.interrupted.by);
  if (suite.comparison && suite.comparison.regressions.length > 0) return ExitCode.regression;
  if (!meetsBar(suite.evaluationTotals, minPassRate)) return ExitCode.questionsFailed;
  if (suite.verify && suite.verify.missing > 0) return ExitCode.readback;
  if (suite.exportReport && (summarizeDelivery(suite.exportReport).lost || suite.exportReport.pending > 0)) return ExitCode.export;
  if (suite.runLink?.problem) return ExitCode.export;
  const { mlflowRun } = suite;
  if (
    mlflowRun.state === 'pending' ||
    mlflowRun.state === 'refused' ||
    (mlflowRun.state !== 'local' && mlflowRun.scores.pending + mlflowRun.scores.refused > 0)
  ) {
    return ExitCode.export;
  }
  return ExitCode.ok;
}

/** Each distinct reason once: a broken destination refuses every trace the same way. */
function exportReasons(report: PipelineReport): string[] {
  return [
    ...new Set([
      ...report.deadLetters.map((letter) => letter.answer),
      ...(report.pending > 0 && report.lastFailure ? [report.lastFailure.answer] : []),
      ...(report.refusedReason ? [report.refusedReason] : []),
    ]),
  ];
}
