import type { CommandContext } from '../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../cli/output.ts';
import { parseWhen } from '../cli/parse-when.ts';
import { isMlflowDestination, type Destination, type MlflowDestination } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { openConfiguredStore } from '../local-store/configured-store.ts';
import { selectTraces } from '../local-store/select-traces.ts';
import { experimentUrl } from '../mlflow/ui-links.ts';
import { openPushTarget, pushTraces, type PushResult } from '../push/push-traces.ts';
import { plural } from '../util/plural.ts';

const NO_MLFLOW_HINT = 'set MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000, or databricks) in the environment or .env, or pass --tracking-uri';

export async function run(ctx: CommandContext, options: Record<string, unknown>, ids: string[]): Promise<number> {
  const since = typeof options.since === 'string' ? parseWhen(options.since) : undefined;
  const { config, store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  const destination = config.destination;
  if (!isMlflowDestination(destination)) {
    throw new ExpectedError(`traces push sends to an MLflow experiment, but ${describeNonMlflow(destination)}`, {
      exitCode: ExitCode.config,
      hint: NO_MLFLOW_HINT,
    });
  }
  const paint = createPainter(ctx);
  const traces = await selectTraces(store, ids, since);
  if (traces.length === 0) {
    if (ctx.globals.json) writeJson(ctx.stdout, { sent: 0, alreadyPresent: 0, failed: 0, experiment: null, traces: [] });
    else writeLine(ctx.stdout, `Nothing to push: no traces in ${store.dir}${since ? ` newer than --since ${String(options.since)}` : ''}.`);
    return ExitCode.ok;
  }

  const target = await openPushTarget(config, destination);
  const { experiment, action } = target.ensured;
  if (!ctx.globals.json) {
    const created = action === 'created' ? ', created' : '';
    writeLine(ctx.stdout, `Pushing ${plural(traces.length, 'trace')} to ${describeMlflow(destination)}, experiment ${experiment.name ? `'${experiment.name}'` : experiment.experimentId} (id ${experiment.experimentId}${created})`);
  }
  const spinner = ctx.interactive && !ctx.globals.json ? (await import('ora')).default({ stream: ctx.stdout }).start() : undefined;
  let report;
  try {
    report = await pushTraces(target, traces, (text) => {
      if (spinner) spinner.text = text;
    });
  } finally {
    spinner?.stop();
  }
  if (report.route && !ctx.globals.json) {
    writeLine(ctx.stdout, paint.dim(`  over ${report.route}`));
    for (const note of report.notes) writeLine(ctx.stdout, paint.dim(`  ${note}`));
  }

  const results = report.traces;
  const count = (result: PushResult) => results.filter((r) => r.result === result).length;
  const totals = { sent: count('sent'), alreadyPresent: count('already-present'), failed: count('failed') };
  if (ctx.globals.json) {
    const url = experimentUrl(destination, experiment.experimentId);
    writeJson(ctx.stdout, {
      ...totals,
      experiment: { id: experiment.experimentId, name: experiment.name ?? null, url: url ?? null },
      traces: results.map((r) => ({ traceId: r.traceId, result: r.result, reason: r.reason ?? null, url: r.url ?? null })),
    });
  } else {
    const labels: Record<PushResult, string> = { sent: 'sent', 'already-present': 'already present', failed: 'failed' };
    const colours = { sent: paint.green, 'already-present': paint.dim, failed: paint.red };
    const labelWidth = labels['already-present'].length;
    for (const r of results) {
      const label = colours[r.result](labels[r.result].padEnd(labelWidth));
      writeLine(ctx.stdout, `  ${label}  ${r.traceId}${r.reason ? `: ${r.reason}` : ''}`);
      if (r.url) writeLine(ctx.stdout, `  ${' '.repeat(labelWidth)}  ${paint.cyan(r.url)}`);
    }
    writeLine(ctx.stdout, `${totals.sent} sent, ${totals.alreadyPresent} already present, ${totals.failed} failed.`);
  }
  return totals.failed > 0 ? ExitCode.export : ExitCode.ok;
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
