import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../../cli/output.ts';
import { onStopRequestThenNow } from '../../cli/stop-requests.ts';
import { isMlflowDestination, type Destination, type MlflowDestination, type ResolvedConfig } from '../../config/types.ts';
import { targetKey, targetOf } from '../../destination/target.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { openConfiguredStore } from '../../pipeline/store/configured-store.ts';
import { EvaluationStore } from '../../pipeline/store/evaluation-store.ts';
import type { TraceStore } from '../../pipeline/store/trace-store.ts';
import {
  evaluationsToPush,
  planPush,
  pushTraces,
  selectForPush,
  type PushedEvaluations,
  type PushedTrace,
  type PushReport,
  type PushResult,
  type PushSelection,
} from './push-traces.ts';
import { plural } from '../../util/plural.ts';
import { commandLine } from '../../invocation.ts';
import type { TracesPushOptions } from './traces-options.ts';
import { takeInLeftBatches } from './take-in-left-batches.ts';
import { lossesOf, writeSpoolLines } from '../../cli/spool-lines.ts';
import type { SpoolEnd } from '../../pipeline/spool/spool.ts';

const NO_MLFLOW_HINT =
  'set MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000, or databricks) in the environment or .env, or pass --tracking-uri';

export async function run(ctx: CommandContext, options: TracesPushOptions, ids: string[]): Promise<number> {
  const { since, dead, all, includeDoctor } = options;
  const { config, store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  try {
    return await push(ctx, options, { config, store }, { ids, ...(since && { since: since.date }), dead, all, includeDoctor });
  } finally {
    store.close();
  }
}

async function push(
  ctx: CommandContext,
  options: TracesPushOptions,
  { config, store }: { config: ResolvedConfig; store: TraceStore },
  selection: PushSelection,
): Promise<number> {
  const destination = config.destination;
  if (!isMlflowDestination(destination)) {
    throw new ExpectedError(`traces push sends to an MLflow experiment, but ${describeNonMlflow(destination)}`, {
      exitCode: ExitCode.config,
      hint: NO_MLFLOW_HINT,
    });
  }
  const paint = createPainter(ctx);
  const taken = await takeInLeftBatches(config);
  if (taken && !ctx.globals.json) writeSpoolLines(ctx.stdout, paint, taken, lossesOf(new Map(), taken));
  // Batches the store did not take in are traces that were not sent either.
  const withSpool = (code: number) => (code === ExitCode.ok && (taken?.left ?? 0) > 0 ? ExitCode.export : code);
  const configuredKey = targetKey(targetOf(config)!);
  const hexIds = selectForPush(store, selection, configuredKey);
  const evaluations = EvaluationStore.open(store.dir);
  try {
    if (hexIds.length === 0 && evaluationsToPush(evaluations, config, selection.dead === true) === 0) {
      nothingToPush(ctx, paint, options, store, selection, configuredKey, taken);
      return withSpool(ExitCode.ok);
    }
    const plan = planPush(store, hexIds, config);
    const spinner =
      ctx.interactive && !ctx.globals.json ? (await import('ora')).default({ stream: ctx.stderr, discardStdin: false }) : undefined;
    const interrupt = new AbortController();
    // Ctrl-C once: stop starting requests, report, exit 130; a second Ctrl-C does not wait for that.
    const stopListening = onStopRequestThenNow(['SIGINT'], () => interrupt.abort());
    let report: PushReport;
    try {
      report = await pushTraces({
        config,
        traces: store,
        evaluations,
        plan,
        dead: selection.dead === true,
        signal: interrupt.signal,
        sendingEvaluations: (runs, scores) => {
          if (!ctx.globals.json) writeLine(ctx.stdout, `Sending ${plural(runs, 'suite run')} and ${plural(scores, 'score')} to MLflow`);
        },
        sending: (group, count) => {
          if (!ctx.globals.json) writeLine(ctx.stdout, `Pushing ${plural(count, 'trace')} to ${group.destination}`);
          for (const note of group.notes) if (!ctx.globals.json) writeLine(ctx.stdout, paint.dim(`  ${note}`));
          spinner?.start();
        },
        progress: (queue, done, total) => {
          if (spinner) spinner.start(`${queue} ${progressBar(done, total)} ${done} of ${total}`);
        },
      });
    } finally {
      stopListening();
      spinner?.stop();
    }
    const exitCode = withSpool(ctx.globals.json ? printJson(ctx, report, taken) : printText(ctx, paint, report, store.dir));
    if (!report.interrupted) return exitCode;
    writeLine(
      ctx.stderr,
      paint.yellow(`interrupted: what was not sent stays in ${store.dir}; \`${commandLine('traces push')}\` again resumes`),
    );
    // A request still in flight would hold the process until its timeout; the person asked to stop now.
    // Unref'd: with nothing in flight the process ends by itself, first.
    setTimeout(() => process.exit(ExitCode.interrupted), 0).unref();
    return ExitCode.interrupted;
  } finally {
    evaluations.close();
  }
}

function nothingToPush(
  ctx: CommandContext,
  paint: ChalkInstance,
  options: TracesPushOptions,
  store: TraceStore,
  selection: PushSelection,
  configuredKey: string,
  taken: SpoolEnd | undefined,
): void {
  if (ctx.globals.json) {
    writeJson(ctx.stdout, {
      sent: 0,
      pending: 0,
      failed: 0,
      experiment: null,
      traces: [],
      groups: [],
      elsewhere: [],
      ...(taken && { spool: spoolJson(taken) }),
    });
    return;
  }
  const newer = options.since ? ` newer than --since ${options.since.given}` : '';
  writeLine(ctx.stdout, `Nothing to push: no local-only or pending traces${newer} in ${store.dir} that this destination lacks.`);
  const doctors = selection.includeDoctor ? 0 : selectForPush(store, { ...selection, includeDoctor: true }, configuredKey).length;
  if (doctors > 0)
    writeLine(
      ctx.stdout,
      paint.dim(
        `${plural(doctors, 'test trace')} of \`${commandLine('doctor')}\` left out: they belong in doctor's experiment (add --include-doctor to send them here).`,
      ),
    );
  const dead = store.reads.counts().dead;
  if (dead > 0 && !selection.dead)
    writeLine(
      ctx.stdout,
      paint.dim(`${plural(dead, 'trace')} were refused before: add --dead to send them again once the cause is fixed.`),
    );
}

function totalsOf(report: PushReport) {
  const traces = report.groups.flatMap((group) => group.traces);
  const count = (result: PushResult) => traces.filter((r) => r.result === result).length;
  const waitingElsewhere = report.elsewhere.reduce((sum, group) => sum + group.hexIds.length, 0);
  return { traces, sent: count('sent'), pending: count('pending'), failed: count('failed'), waitingElsewhere };
}

function exitCodeOf(report: PushReport): number {
  const { pending, failed, waitingElsewhere } = totalsOf(report);
  const evaluations = report.evaluations;
  const evaluationsLeft =
    evaluations &&
    (!evaluations.runs.every((run) => run.state === 'delivered') || evaluations.scores.pending + evaluations.scores.refused > 0);
  return failed + pending + waitingElsewhere > 0 || evaluationsLeft ? ExitCode.export : ExitCode.ok;
}

/** Batches of spans taken in from the spool before the push, and those the store did not take. */
function spoolJson(taken: SpoolEnd) {
  return { takenIn: taken.adopted, left: taken.left, lost: lossesOf(new Map(), taken) };
}

function printJson(ctx: CommandContext, report: PushReport, taken: SpoolEnd | undefined): number {
  const { traces, sent, pending, failed } = totalsOf(report);
  const first = report.groups.find((group) => group.experiment);
  writeJson(ctx.stdout, {
    sent,
    pending,
    failed,
    interrupted: report.interrupted,
    route: first?.route ?? null,
    experiment: first?.experiment ? { id: first.experiment.id, name: first.experiment.name ?? null, url: first.experiment.url } : null,
    traces: traces.map((r) => ({ traceId: r.traceId, result: r.result, reason: r.reason ?? null, url: r.url ?? null })),
    groups: report.groups.map((group) => ({
      destination: group.destination,
      experiment: group.experiment ? { id: group.experiment.id, name: group.experiment.name ?? null, url: group.experiment.url } : null,
      route: group.route ?? null,
      traces: group.traces.map((r) => r.traceId),
    })),
    elsewhere: report.elsewhere.map((group) => ({ destination: group.description, traces: group.hexIds.map((hex) => `tr-${hex}`) })),
    ...(report.evaluations && { evaluations: evaluationsJson(report.evaluations) }),
    ...(taken && { spool: spoolJson(taken) }),
  });
  return exitCodeOf(report);
}

function printText(ctx: CommandContext, paint: ChalkInstance, report: PushReport, storeDir: string): number {
  const { sent, pending, failed } = totalsOf(report);
  // One line per reason, not per trace: a refusal usually has one cause for many traces.
  for (const [reason, traceIds] of groupByReason(report.groups.flatMap((group) => group.traces).filter((r) => r.result !== 'sent'))) {
    const shown = traceIds.slice(0, 3).join(', ') + (traceIds.length > 3 ? `, … (${traceIds.length} in all)` : '');
    writeLine(ctx.stdout, `  ${paint.red(reason)}: ${shown}`);
  }
  const urls = report.groups.flatMap((group) => (group.experiment ? [group.experiment.url] : []));
  writeLine(
    ctx.stdout,
    `${sent} sent, ${pending} still pending, ${failed} refused.${urls.length > 0 ? ` Experiment: ${urls.map((url) => paint.cyan(url)).join(', ')}` : ''}`,
  );
  if (pending > 0) writeLine(ctx.stdout, paint.dim(`The pending ones stay in ${storeDir}: push again once the destination answers.`));
  if (failed > 0)
    writeLine(ctx.stdout, paint.dim(`Refused traces are kept: fix the cause, then \`${commandLine('traces push --dead')}\`.`));
  for (const group of report.elsewhere) {
    writeLine(
      ctx.stdout,
      paint.yellow(
        `${plural(group.hexIds.length, 'trace')} wait for ${group.description}: push them with a configuration that reaches it, or send them here with --experiment`,
      ),
    );
  }
  if (report.evaluations) for (const line of evaluationLines(paint, report.evaluations, storeDir)) writeLine(ctx.stdout, line);
  return exitCodeOf(report);
}

function evaluationLines(paint: ChalkInstance, pushed: PushedEvaluations, storeDir: string): string[] {
  const lines: string[] = [];
  for (const run of pushed.runs) {
    if (run.state === 'delivered') {
      lines.push(`suite run in MLflow: ${run.runId}`);
      if (run.url) lines.push(`  ${paint.cyan(run.url)}`);
    } else
      lines.push(
        (run.state === 'pending' ? paint.yellow : paint.red)(
          `suite run ${run.runId ?? '(not created)'} ${run.state}: ${run.problem ?? ''}`,
        ),
      );
    for (const note of run.notes) lines.push(paint.dim(`  ${note}`));
  }
  const { scores } = pushed;
  if (scores.delivered > 0) lines.push(`${plural(scores.delivered, 'score')} logged as assessments on their traces`);
  if (scores.pending > 0)
    lines.push(
      paint.yellow(
        `${plural(scores.pending, 'score')} still pending (${pushed.scoreProblems[0] ?? 'MLflow did not answer'}); they stay in ${storeDir}`,
      ),
    );
  if (scores.refused > 0)
    lines.push(
      paint.red(`${plural(scores.refused, 'score')} refused by MLflow, kept in ${storeDir}: ${pushed.scoreProblems.at(-1) ?? ''}`),
    );
  return lines;
}

function evaluationsJson(pushed: PushedEvaluations) {
  return {
    runs: pushed.runs.map((run) => ({ id: run.runId, state: run.state, problem: run.problem ?? null, url: run.url ?? null })),
    scores: pushed.scores,
    reasons: pushed.scoreProblems,
  };
}

function groupByReason(results: readonly PushedTrace[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const r of results) {
    const reason = r.reason ?? (r.result === 'pending' ? 'not delivered before the destination stopped answering' : 'refused');
    groups.set(reason, [...(groups.get(reason) ?? []), r.traceId]);
  }
  return groups;
}

const BAR_WIDTH = 20;

function progressBar(done: number, total: number): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

function describeNonMlflow(destination: Exclude<Destination, MlflowDestination>): string {
  switch (destination.kind) {
    case 'local':
      return 'no MLflow is configured';
    case 'collector':
      return `the configured destination is an OTLP collector (${destination.endpoint.value})`;
    case 'unity-catalog':
      return `the configured destination is a Unity Catalog table (${destination.table.value})`;
  }
}
