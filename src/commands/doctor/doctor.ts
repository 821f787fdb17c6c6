import type { CommandContext } from '../../cli/context.ts';
import { createCheckReporter } from './check-reporter.ts';
import { createPainter, wrapWords, writeJson, writeLine } from '../../cli/output.ts';
import { terminalWidth } from '../../cli/trace-format.ts';
import { plural } from '../../util/plural.ts';
import { whenPromptClosed } from '../../cli/prompt-closed.ts';
import { runDoctor, type DoctorReport } from './run-doctor.ts';
import { commandLine } from '../../invocation.ts';
import type { DoctorOptions } from './doctor-options.ts';

export async function run(ctx: CommandContext, options: DoctorOptions): Promise<number> {
  const canAsk = ctx.interactive && !ctx.globals.json;
  const reporter = await createCheckReporter(ctx);
  const confirm = async (question: string) => {
    reporter?.suspend();
    const { confirm: ask } = await import('@inquirer/prompts');
    // Ctrl-C at "Create it?" is a no: the check fails with its hint instead of a crash report.
    return whenPromptClosed(ask({ message: question, default: true }), () => false);
  };
  const report = await runDoctor({
    config: { cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags, purpose: 'doctor' },
    traces: options.traces,
    createExperiment: options.createExperiment,
    readBackTimeoutMs: options.timeout * 1000,
    ...(canAsk && { confirm }),
    ...(reporter && { reporter }),
  });
  if (ctx.globals.json) writeJson(ctx.stdout, toJson(report));
  else renderSummary(ctx, report);
  return report.exitCode;
}

/** Whether doctor looked for the test traces at all: a collector or a Unity Catalog table cannot be read back. */
function readBackRan(report: DoctorReport): boolean {
  const check = report.checks.find((c) => c.id === 'read-back');
  return check !== undefined && check.status !== 'skipped';
}

function renderSummary(ctx: CommandContext, report: DoctorReport): void {
  const paint = createPainter(ctx);
  const lookedFor = readBackRan(report);
  if (report.traces.length > 0) writeLine(ctx.stdout);
  for (const trace of report.traces) {
    const state = trace.found
      ? `${trace.state}, ${plural(trace.spanNames.length, 'span')}`
      : !trace.exported
        ? 'not exported'
        : lookedFor
          ? 'not found'
          : 'exported, not read back';
    const tokens = trace.tokenUsage?.total_tokens !== undefined ? `, ${trace.tokenUsage.total_tokens} tokens` : '';
    writeLine(ctx.stdout, `  ${paint.bold(trace.traceId)}  ${state}${tokens}`);
    if (trace.requestPreview !== undefined) writeLine(ctx.stdout, `    request:  ${trace.requestPreview}`);
    if (trace.responsePreview !== undefined) writeLine(ctx.stdout, `    response: ${trace.responsePreview}`);
    if (trace.url) writeLine(ctx.stdout, `    ${paint.cyan(trace.url)}`);
  }
  if (report.experiment?.url) writeLine(ctx.stdout, `\nExperiment: ${paint.cyan(report.experiment.url)}`);
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  if (!report.ok) {
    writeLine(ctx.stdout, paint.red(`\n${plural(failed, 'check')} failed (exit code ${report.exitCode}).`));
  } else if (report.localStore) {
    writeLine(ctx.stdout, paint.green(`\nAll checks passed: traces are kept in the local store ${report.localStore}.`));
    writeLine(ctx.stdout, `See one:        ${commandLine(`traces show ${report.traces[0]?.traceId ?? '<id>'}`)}`);
    writeLine(ctx.stdout, `Send to MLflow: set MLFLOW_TRACKING_URI, then ${commandLine('traces push')}`);
  } else if (!lookedFor) {
    // Say what was proven, and what was not: the traces left, but nothing here saw them arrive.
    const readBack = report.checks.find((c) => c.id === 'read-back');
    const receiver = report.destination === 'collector' ? 'the OTLP collector' : 'the Unity Catalog table';
    writeLine(ctx.stdout, paint.green(`\nAll checks passed: ${plural(report.traces.length, 'test trace')} accepted by ${receiver}.`));
    for (const line of wrapWords(
      `Not proven: that they reach MLflow, as they cannot be read back from here (${readBack?.detail}).`,
      terminalWidth(ctx),
    )) {
      writeLine(ctx.stdout, paint.yellow(line));
    }
  } else {
    writeLine(ctx.stdout, paint.green('\nAll checks passed: traces reach MLflow, read back intact.'));
  }
}

/** Stable keys for scripts: labels may be reworded, these may not. */
function toJson(report: DoctorReport) {
  return {
    ok: report.ok,
    exitCode: report.exitCode,
    destination: report.destination,
    serverVersion: report.serverVersion ?? null,
    experiment: report.experiment ?? null,
    exportRoute: report.exportRoute ?? null,
    localStore: report.localStore ?? null,
    export: report.export ?? null,
    backlog: report.backlog ?? null,
    checks: report.checks.map((c) => ({
      id: c.id,
      status: c.status,
      detail: c.detail,
      hint: c.hint ?? null,
      durationMs: c.durationMs,
    })),
    traces: report.traces.map((t) => ({
      traceId: t.traceId,
      exported: t.exported,
      exportError: t.exportError ?? null,
      // null: not looked for (a collector, a Unity Catalog table), which is not "not found".
      found: readBackRan(report) ? t.found : null,
      state: t.state ?? null,
      spans: t.spanNames,
      spanTypes: t.spanTypes,
      tokenUsage: t.tokenUsage ?? null,
      requestPreview: t.requestPreview ?? null,
      responsePreview: t.responsePreview ?? null,
      url: t.url ?? null,
      problems: t.problems,
    })),
  };
}
