import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { MlflowDestination, ResolvedConfig } from '../config/types.ts';
import type { LocalTrace } from '../local-store/local-trace-store.ts';
import { toReadableSpans } from '../local-store/readable-spans.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import { ensureAppExperiment, type EnsuredExperiment } from '../mlflow/ensure-experiment.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import { capabilitiesFor, getServerVersion } from '../mlflow/server-info.ts';
import { getTraceInfo } from '../mlflow/traces.ts';
import { traceUrl } from '../mlflow/ui-links.ts';
import { createExporter } from '../tracing/bootstrap.ts';
import { ExportLedger } from '../tracing/export-ledger.ts';
import { chooseExportPlan, type ExportPlan } from '../tracing/export-plan.ts';
import { runPool } from '../util/worker-pool.ts';

/** Traces in flight at once: enough to hide round trips, few enough not to crowd the server. */
const PUSH_CONCURRENCY = 4;

export type PushResult = 'sent' | 'already-present' | 'failed';

export interface PushedTrace {
  traceId: string;
  result: PushResult;
  reason?: string;
  /** The trace in the MLflow UI, unless it failed. */
  url?: string;
}

/** The experiment the traces go to, found or created before anything is sent. */
export interface PushTarget {
  config: ResolvedConfig;
  destination: MlflowDestination;
  http: MlflowHttp;
  ensured: EnsuredExperiment;
}

export interface PushReport {
  traces: PushedTrace[];
  /** How the traces MLflow lacked went out ('OTLP' or 'MLflow REST'); absent when it had them all. */
  route?: string;
  notes: string[];
}

export async function openPushTarget(config: ResolvedConfig, destination: MlflowDestination): Promise<PushTarget> {
  const { http } = connectToTracking(config)!;
  const ensured = await ensureAppExperiment(http, config.experiment);
  return { config, destination, http, ensured };
}

/**
 * Sends the stored traces MLflow does not have yet. Asking first is what makes a second push
 * harmless: a re-sent REST trace would be registered again, and its token usage counted twice.
 */
export async function pushTraces(target: PushTarget, traces: readonly LocalTrace[], progress?: (text: string) => void): Promise<PushReport> {
  const { http, destination, config } = target;
  const experimentId = target.ensured.experiment.experimentId;
  progress?.('asking MLflow which traces it has');
  const presence = await runPool(traces, PUSH_CONCURRENCY, (trace) => presenceOf(http, trace));
  const missing = traces.filter((_, index) => presence[index] === undefined);
  let sent: Awaited<ReturnType<typeof sendAll>> | undefined;
  if (missing.length > 0) {
    const capabilities = destination.kind === 'mlflow' ? capabilitiesFor(await getServerVersion(http)) : undefined;
    const plan = await chooseExportPlan({ config, http, experimentId, ...(capabilities && { capabilities }) });
    sent = await sendAll(missing, plan, (done) => progress?.(`sending: ${done} of ${missing.length}`));
  }
  const results = traces.map((trace, index): PushedTrace => {
    const outcome = presence[index] ?? sent!.results.get(trace.traceId)!;
    const url = outcome.result === 'failed' ? undefined : traceUrl(destination, experimentId, trace.traceId);
    return { ...outcome, ...(url && { url }) };
  });
  return { traces: results, ...(sent && { route: sent.route }), notes: sent?.notes ?? [] };
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
  await runPool(traces, PUSH_CONCURRENCY, async (trace) => {
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
