import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { CommandContext } from '../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../cli/output.ts';
import { parseWhen } from '../cli/parse-when.ts';
import type { Destination } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { openConfiguredStore } from '../local-store/configured-store.ts';
import { summarizeTrace, toReadableSpans, type LocalTrace, type LocalTraceStore } from '../local-store/local-trace-store.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import { ensureExperiment } from '../mlflow/ensure-experiment.ts';
import { capabilitiesFor, getServerVersion } from '../mlflow/server-info.ts';
import { getTraceInfo } from '../mlflow/traces.ts';
import { experimentUrl, traceUrl } from '../mlflow/ui-links.ts';
import { ExportLedger } from '../tracing/export-ledger.ts';
import { chooseExportPlan, type ExportPlan } from '../tracing/export-plan.ts';
import { createExporter } from '../tracing/bootstrap.ts';

/** Traces in flight at once: enough to hide round trips, few enough not to crowd the server. */
const PUSH_CONCURRENCY = 4;
const NO_MLFLOW_HINT = 'set MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000, or databricks) in the environment or .env, or pass --tracking-uri';

type PushResult = 'sent' | 'already-present' | 'failed';

interface PushedTrace {
  traceId: string;
  result: PushResult;
  reason?: string;
  url?: string;
}

export async function run(ctx: CommandContext, options: Record<string, unknown>, ids: string[]): Promise<number> {
  const since = typeof options.since === 'string' ? parseWhen(options.since) : undefined;
  const { config, store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  const destination = config.destination;
  if (destination.kind !== 'mlflow' && destination.kind !== 'databricks') {
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

  const { http } = connectToTracking(config)!;
  const ensured = await ensureExperiment(http, config.experiment, {
    createMissing: true,
    restoreDeleted: false,
    experimentHint: 'set MLFLOW_EXPERIMENT_NAME_OTEL / --experiment to an existing one',
  });
  const experimentId = ensured.experiment.experimentId;
  const where = destination.kind === 'mlflow' ? `MLflow at ${destination.trackingUri.value}` : `Databricks workspace ${destination.host.value}`;
  if (!ctx.globals.json) {
    const created = ensured.action === 'created' ? ', created' : '';
    writeLine(ctx.stdout, `Pushing ${plural(traces.length, 'trace')} to ${where}, experiment ${ensured.experiment.name ? `'${ensured.experiment.name}'` : experimentId} (id ${experimentId}${created})`);
  }
  const spinner = ctx.interactive && !ctx.globals.json ? (await import('ora')).default({ text: 'asking MLflow which traces it has', stream: ctx.stdout }).start() : undefined;

  // Asking first is what makes a second push harmless: a re-sent REST trace would be registered again.
  const presence = await inPool(traces, PUSH_CONCURRENCY, (trace) => presenceOf(http, trace));
  const missing = traces.filter((_, index) => presence[index] === undefined);
  let sent: Awaited<ReturnType<typeof sendAll>> | undefined;
  if (missing.length > 0) {
    const capabilities = destination.kind === 'mlflow' ? capabilitiesFor(await getServerVersion(http)) : undefined;
    const plan = await chooseExportPlan({ config, http, experimentId, ...(capabilities && { capabilities }) });
    sent = await sendAll(missing, plan, (done) => {
      if (spinner) spinner.text = `sending: ${done} of ${missing.length}`;
    });
  }
  spinner?.stop();
  if (sent && !ctx.globals.json) {
    writeLine(ctx.stdout, paint.dim(`  over ${sent.route}`));
    for (const note of sent.notes) writeLine(ctx.stdout, paint.dim(`  ${note}`));
  }

  const results = traces.map((trace, index): PushedTrace => {
    const outcome = presence[index] ?? sent!.results.get(trace.traceId)!;
    const url = outcome.result === 'failed' ? undefined : traceUrl(destination, experimentId, trace.traceId);
    return { ...outcome, ...(url && { url }) };
  });

  const count = (result: PushResult) => results.filter((r) => r.result === result).length;
  const totals = { sent: count('sent'), alreadyPresent: count('already-present'), failed: count('failed') };
  if (ctx.globals.json) {
    const url = experimentUrl(destination, experimentId);
    writeJson(ctx.stdout, {
      ...totals,
      experiment: { id: experimentId, name: ensured.experiment.name ?? null, url: url ?? null },
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

function describeNonMlflow(destination: Exclude<Destination, { kind: 'mlflow' | 'databricks' }>): string {
  switch (destination.kind) {
    case 'none':
      return 'no MLflow is configured';
    case 'otlp':
      return `the configured destination is an OTLP collector (${destination.endpoint.value})`;
    case 'databricks-uc':
      return `the configured destination is a Unity Catalog table (${destination.table.value})`;
  }
}

/** The ids asked for, else every stored trace (newer than --since), oldest first. */
async function selectTraces(store: LocalTraceStore, ids: string[], since: Date | undefined): Promise<LocalTrace[]> {
  if (ids.length > 0) {
    const traces: LocalTrace[] = [];
    for (const id of ids) {
      const trace = await store.get(id);
      if (!trace) {
        throw new ExpectedError(`no stored trace matches '${id}' in ${store.dir}`, {
          exitCode: ExitCode.usage,
          hint: 'run `otel-mlflow traces list` to see the stored trace ids',
        });
      }
      if (!since || Date.parse(summarizeTrace(trace).startTime) >= since.getTime()) traces.push(trace);
    }
    return traces;
  }
  const summaries = await store.list(since ? { since } : {});
  const traces: LocalTrace[] = [];
  for (const summary of summaries.reverse()) {
    const trace = await store.get(summary.traceId);
    if (trace) traces.push(trace);
  }
  return traces;
}

/** Already present, or a failure to find out; undefined when the trace must be sent. */
async function presenceOf(http: MlflowHttp, trace: LocalTrace): Promise<Omit<PushedTrace, 'url'> | undefined> {
  const { traceId } = trace;
  try {
    return (await getTraceInfo(http, traceId)) ? { traceId, result: 'already-present' } : undefined;
  } catch (error) {
    return { traceId, result: 'failed', reason: `asking MLflow whether it has the trace failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Sends the traces MLflow does not have, on a private ledger; the outcome of each by trace id. */
async function sendAll(traces: LocalTrace[], plan: ExportPlan, progress: (done: number) => void) {
  const ledger = new ExportLedger();
  // The bootstrap's exporters on a private ledger: a push needs no global tracer provider.
  const exporter = await createExporter(plan, ledger);
  const results = new Map<string, Omit<PushedTrace, 'url'>>();
  await inPool(traces, PUSH_CONCURRENCY, async (trace) => {
    const { traceId } = trace;
    await exportSpans(exporter, toReadableSpans(trace));
    const record = ledger.find(traceId);
    results.set(
      traceId,
      record?.ok
        ? { traceId, result: 'sent' }
        : { traceId, result: 'failed', reason: record?.reason ?? (record?.status ? `HTTP ${record.status}` : 'not sent') },
    );
    progress(results.size);
  });
  await exporter.shutdown();
  return { results, route: plan.kind === 'otlp' ? 'OTLP' : 'MLflow REST', notes: plan.notes };
}

function exportSpans(exporter: SpanExporter, spans: ReadableSpan[]): Promise<void> {
  // The exporter records the outcome in the ledger; the callback only says it is done.
  return new Promise((resolve) => exporter.export(spans, () => resolve()));
}

async function inPool<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
