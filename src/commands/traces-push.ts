import type { CommandContext } from '../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../cli/output.ts';
import { parseWhen } from '../cli/parse-when.ts';
import { isMlflowDestination, type Destination, type MlflowDestination, type ResolvedConfig } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { openConfiguredStore } from '../pipeline/store/configured-store.ts';
import type { TraceStore } from '../pipeline/store/trace-store.ts';
import { experimentUrl } from '../mlflow/ui-links.ts';
import { destinationKey } from '../pipeline/destinations/destination-key.ts';
import { countPendingEvaluations, pushEvaluations, type PushedEvaluations } from '../push/push-evaluations.ts';
import type { ChalkInstance } from 'chalk';
import { openPushTarget, pushTraces, selectForPush, type PushedTrace, type PushResult, type PushSelection } from '../push/push-traces.ts';
import { plural } from '../util/plural.ts';
import { commandLine } from '../util/invocation.ts';

const NO_MLFLOW_HINT = 'set MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000, or databricks) in the environment or .env, or pass --tracking-uri';

export async function run(ctx: CommandContext, options: Record<string, unknown>, ids: string[]): Promise<number> {
  const since = typeof options.since === 'string' ? parseWhen(options.since) : undefined;
  const { config, store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  try {
    return await push(ctx, options, { config, store }, {
      ids,
      ...(since && { since }),
      dead: options.dead === true,
      all: options.all === true,
      includeDoctor: options.includeDoctor === true,
    });
  } finally {
    store.close();
  }
}

async function push(ctx: CommandContext, options: Record<string, unknown>, { config, store }: { config: ResolvedConfig; store: TraceStore }, selection: PushSelection): Promise<number> {
  const destination = config.destination;
  if (!isMlflowDestination(destination)) {
    throw new ExpectedError(`traces push sends to an MLflow experiment, but ${describeNonMlflow(destination)}`, {
      exitCode: ExitCode.config,
      hint: NO_MLFLOW_HINT,
    });
  }
  const paint = createPainter(ctx);
  const hexIds = selectForPush(store, selection, destinationKey(config)!);
  const evaluations = countPendingEvaluations(store.dir, config);
  const hasEvaluations = evaluations.runs + evaluations.scores > 0;
  if (hexIds.length === 0 && hasEvaluations) return pushOnlyEvaluations(ctx, paint, config, destination, store.dir);
  if (hexIds.length === 0) {
    if (ctx.globals.json) writeJson(ctx.stdout, { sent: 0, pending: 0, failed: 0, experiment: null, traces: [] });
    else {
      const newer = selection.since ? ` newer than --since ${String(options.since)}` : '';
      writeLine(ctx.stdout, `Nothing to push: no local-only or pending traces${newer} in ${store.dir} that this destination lacks.`);
      const doctors = selection.includeDoctor ? 0 : selectForPush(store, { ...selection, includeDoctor: true }, destinationKey(config)!).length;
      if (doctors > 0) writeLine(ctx.stdout, paint.dim(`${plural(doctors, 'test trace')} of \`${commandLine('doctor')}\` left out: they belong in doctor's experiment (add --include-doctor to send them here).`));
      const dead = store.counts().dead;
      if (dead > 0 && !selection.dead) writeLine(ctx.stdout, paint.dim(`${plural(dead, 'trace')} were refused before: add --dead to send them again once the cause is fixed.`));
    }
    return ExitCode.ok;
  }

  const target = await openPushTarget(config, destination);
  const { experiment, action } = target.ensured;
  if (!ctx.globals.json) {
    const created = action === 'created' ? ', created' : '';
    writeLine(ctx.stdout, `Pushing ${plural(hexIds.length, 'trace')} to ${describeMlflow(destination)}, experiment ${experiment.name ? `'${experiment.name}'` : experiment.experimentId} (id ${experiment.experimentId}${created})`);
  }
  const spinner = ctx.interactive && !ctx.globals.json ? (await import('ora')).default({ stream: ctx.stderr }).start() : undefined;
  let report;
  try {
    report = await pushTraces(target, store, hexIds, (done, total) => {
      if (spinner) spinner.text = `${progressBar(done, total)} ${done} of ${total}`;
    });
  } finally {
    spinner?.stop();
  }

  const results = report.traces;
  const count = (result: PushResult) => results.filter((r) => r.result === result).length;
  const totals = { sent: count('sent'), pending: count('pending'), failed: count('failed') };
  const url = experimentUrl(destination, experiment.experimentId);
  // After the traces, so the scores find them in MLflow.
  const pushed = hasEvaluations ? await pushEvaluations(target, store.dir) : undefined;
  if (ctx.globals.json) {
    writeJson(ctx.stdout, {
      ...totals,
      route: report.route,
      experiment: { id: experiment.experimentId, name: experiment.name ?? null, url: url ?? null },
      traces: results.map((r) => ({ traceId: r.traceId, result: r.result, reason: r.reason ?? null, url: r.url ?? null })),
      ...(pushed && { evaluations: evaluationsJson(pushed) }),
    });
  } else {
    writeLine(ctx.stdout, paint.dim(`  over ${report.route}`));
    for (const note of report.notes) writeLine(ctx.stdout, paint.dim(`  ${note}`));
    // One line per reason, not per trace: a refusal usually has one cause for many traces.
    for (const [reason, traceIds] of groupByReason(results.filter((r) => r.result !== 'sent'))) {
      const shown = traceIds.slice(0, 3).join(', ') + (traceIds.length > 3 ? `, … (${traceIds.length} in all)` : '');
      writeLine(ctx.stdout, `  ${paint.red(reason)}: ${shown}`);
    }
    writeLine(ctx.stdout, `${totals.sent} sent, ${totals.pending} still pending, ${totals.failed} refused.${url ? ` Experiment: ${paint.cyan(url)}` : ''}`);
    if (totals.pending > 0) writeLine(ctx.stdout, paint.dim(`The pending ones stay in ${store.dir}: push again once the destination answers.`));
    if (totals.failed > 0) writeLine(ctx.stdout, paint.dim(`Refused traces are kept: fix the cause, then \`${commandLine('traces push --dead')}\`.`));
    if (pushed) for (const line of evaluationLines(paint, pushed, store.dir)) writeLine(ctx.stdout, line);
  }
  return totals.failed + totals.pending > 0 || (pushed && !allDelivered(pushed)) ? ExitCode.export : ExitCode.ok;
}

/** No trace left to send, but suite runs or scores are: they go on their own. */
async function pushOnlyEvaluations(ctx: CommandContext, paint: ChalkInstance, config: ResolvedConfig, destination: MlflowDestination, storeDir: string): Promise<number> {
  const target = await openPushTarget(config, destination);
  const pushed = await pushEvaluations(target, storeDir);
  if (ctx.globals.json) writeJson(ctx.stdout, { sent: 0, pending: 0, failed: 0, experiment: null, traces: [], evaluations: evaluationsJson(pushed) });
  else {
    writeLine(ctx.stdout, `No traces to push; sending suite results to ${describeMlflow(destination)}, experiment id ${target.ensured.experiment.experimentId}`);
    for (const line of evaluationLines(paint, pushed, storeDir)) writeLine(ctx.stdout, line);
  }
  return allDelivered(pushed) ? ExitCode.ok : ExitCode.export;
}

function allDelivered(pushed: PushedEvaluations): boolean {
  return pushed.runs.every((run) => run.state === 'delivered') && pushed.scores.pending + pushed.scores.refused === 0;
}

function evaluationLines(paint: ChalkInstance, pushed: PushedEvaluations, storeDir: string): string[] {
  const lines: string[] = [];
  for (const run of pushed.runs) {
    if (run.state === 'delivered') {
      lines.push(`suite run in MLflow: ${run.runId}`);
      const url = run.runId && pushed.runUrls[run.runId];
      if (url) lines.push(`  ${paint.cyan(url)}`);
    } else lines.push((run.state === 'pending' ? paint.yellow : paint.red)(`suite run ${run.runId ?? '(not created)'} ${run.state}: ${run.problem ?? ''}`));
    for (const note of run.notes) lines.push(paint.dim(`  ${note}`));
  }
  const { scores } = pushed;
  if (scores.delivered > 0) lines.push(`${plural(scores.delivered, 'score')} logged as assessments on their traces`);
  if (scores.pending > 0) lines.push(paint.yellow(`${plural(scores.pending, 'score')} still pending (${pushed.scoreProblems[0] ?? 'MLflow did not answer'}); they stay in ${storeDir}`));
  if (scores.refused > 0) lines.push(paint.red(`${plural(scores.refused, 'score')} refused by MLflow, kept in ${storeDir}: ${pushed.scoreProblems.at(-1) ?? ''}`));
  return lines;
}

function evaluationsJson(pushed: PushedEvaluations) {
  return {
    runs: pushed.runs.map((run) => ({ id: run.runId, state: run.state, problem: run.problem ?? null, url: (run.runId && pushed.runUrls[run.runId]) || null })),
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

function describeMlflow(destination: MlflowDestination): string {
  return destination.kind === 'mlflow' ? `MLflow at ${destination.trackingUri.value}` : `Databricks workspace ${destination.host.value}`;
}

function describeNonMlflow(destination: Exclude<Destination, MlflowDestination>): string {
  switch (destination.kind) {
    case 'none':
      return 'no MLflow is configured';
    case 'otlp':
      return `the configured destination is an OTLP collector (${destination.endpoint.value})`;
    case 'databricks-uc':
      return `the configured destination is a Unity Catalog table (${destination.table.value})`;
  }
}
