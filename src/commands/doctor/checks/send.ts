import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../../config/load-config.ts';
import type { LoadConfigOptions, ResolvedConfig } from '../../../config/types.ts';
import { routeName, type ResolvedDestination } from '../../../destination/resolved-destination.ts';
import { ExitCode, ExpectedError } from '../../../errors.ts';
import { traceUrl } from '../../../mlflow/ui-links.ts';
import { leftInSpool, spoolSettings } from '../../../pipeline/spool/spool.ts';
import { flushAndReport, traceExportStatus, type TraceExportStatus } from '../../../runtime/trace-export-status.ts';
import { commandLine } from '../../../invocation.ts';
import { plural } from '../../../util/plural.ts';
import { VERSION } from '../../../version.ts';
import type { ReadBackTrace } from '../read-back.ts';
import { sendTestTrace, type SentTestTrace } from '../test-traces.ts';
import type { Asked, Check, DoctorInput } from './check.ts';
import type { ConfigFound } from './config.ts';
import type { ExperimentFound, SendTo } from './experiment.ts';
import type { ExportPathFound } from './export-path.ts';

export interface DoctorTrace extends ReadBackTrace {
  url?: string;
  exported: boolean;
  exportError?: string;
}

/** The test traces as sent, what became of each, and the ones that left (the read-back check looks for those). */
export interface SendFound {
  traces: DoctorTrace[];
  exported: SentTestTrace[];
  /** Delivered (or kept, locally), still pending on disk, refused. */
  export: { exported: number; pending: number; failed: number };
  backlog: Backlog;
}

/**
 * What else waits: traces of any run pending or refused in the store (null with no store), and
 * batches of spans stopped runs left in the spool, those `traces push` takes in with the app's
 * settings and those of runs with other settings.
 */
export interface Backlog {
  pending: number | null;
  dead: number | null;
  spooled: number;
  spooledWithOtherSettings: number;
}

export const sendCheck: Check<Asked & ConfigFound & ExperimentFound & ExportPathFound, SendFound> = {
  id: 'send',
  title: 'Send test traces',
  async run({ input, config, sendTo, resolved }) {
    if (sendTo.kind !== 'local' && !resolved) throw new ExpectedError('no export path could be chosen', { exitCode: ExitCode.export });
    const { sent, backlog } = await sendTestTraces(input, config, sendTo, resolved);
    const exported = sent.filter(({ status }) => status.exported).map(({ trace }) => trace);
    const failures = sent.filter(({ status }) => !status.exported).map(({ status }) => status);
    const waiting = failures.filter((f) => f.waiting).length;
    const adds = {
      traces: sent.map(({ trace, status }) => doctorTrace(trace, status, sendTo)),
      exported,
      export: { exported: exported.length, pending: waiting, failed: failures.length - waiting },
      backlog,
    };
    if (failures.length > 0) {
      const reasons = [...new Set(failures.map((f) => f.reason))];
      return {
        status: 'fail',
        exitCode: ExitCode.export,
        detail: `${exported.length} of ${plural(sent.length, 'trace')} exported; not exported: ${reasons.join('; ')}${describeBacklog(backlog)}`,
        hint: exportHint(failures.map((f) => f.status).find((status) => status !== undefined)),
        adds,
      };
    }
    return {
      status: 'ok',
      detail: `${plural(sent.length, 'trace')} exported via ${resolved ? routeName(resolved) : 'the local store'}${describeBacklog(backlog)}`,
      adds,
    };
  },
};

/**
 * Sends `count` test traces through the pipeline every command uses, and waits for them to leave:
 * each with what became of it, and what else waits in the store.
 */
async function sendTestTraces(input: DoctorInput, config: ResolvedConfig, sendTo: SendTo, resolved: ResolvedDestination | undefined) {
  const { startTracing, FLUSH_DEADLINE_MS } = await import('../../../runtime/start-tracing.ts');
  const tracing = await startTracing({
    target: sendTo.kind === 'local' ? undefined : sendTo.target,
    ...(resolved && { destination: resolved }),
    auth: config.auth,
    storeDir: config.storeDir.value,
    store: { maxBytes: config.storeMaxBytes.value },
    origin: 'doctor',
    serviceName: config.serviceName.value,
    resourceAttributes: config.resourceAttributes.value,
    version: VERSION,
  });
  try {
    const runId = randomUUID().slice(0, 8);
    const traces = Array.from({ length: input.traces }, (_, i) => sendTestTrace(tracing.tracer, i, runId));
    const statuses = await flushAndReport(
      tracing,
      traces.map((trace) => trace.traceId),
      FLUSH_DEADLINE_MS,
    );
    const counts = tracing.pipeline?.store.reads.counts();
    const spooled = await spooledBatches(input.config, config.storeDir.value);
    const backlog: Backlog = { pending: counts?.pending ?? null, dead: counts?.dead ?? null, ...spooled };
    // No statuses only when OpenTelemetry recorded nothing.
    return { sent: traces.map((trace, i) => ({ trace, status: statuses?.[i] ?? traceExportStatus(undefined, undefined) })), backlog };
  } finally {
    await tracing.shutdown(0);
  }
}

/** A test trace as the report shows it before it is read back. */
function doctorTrace(trace: SentTestTrace, status: TraceExportStatus, sendTo: SendTo): DoctorTrace {
  const url = urlOf(sendTo, trace.traceId);
  return {
    traceId: trace.traceId,
    found: false,
    spanNames: [],
    spanTypes: {},
    problems: [],
    exported: status.exported,
    ...(status.reason !== undefined && { exportError: status.reason }),
    ...(url && { url }),
  };
}

/** Where a test trace is seen in MLflow's UI; none outside an experiment. */
function urlOf(sendTo: SendTo, traceId: string): string | undefined {
  return sendTo.kind === 'mlflow' || sendTo.kind === 'databricks'
    ? traceUrl(sendTo.target, sendTo.experiment.experiment.experimentId, traceId)
    : undefined;
}

/** Batches of spans runs that were stopped left in the spool: those `traces push` takes in with the app's settings, and the others. */
async function spooledBatches(
  options: LoadConfigOptions,
  storeDir: string,
): Promise<Pick<Backlog, 'spooled' | 'spooledWithOtherSettings'>> {
  // The settings `traces push` takes in with are the app's, whose experiment is not doctor's.
  const app = await loadConfig({ ...options, purpose: 'app' }).catch(() => undefined);
  const left = await leftInSpool(storeDir, app && spoolSettings(app, app.llm.captureContent.value));
  return { spooled: left.withSettings, spooledWithOtherSettings: left.files - left.withSettings };
}

/** The backlog as the send check's detail ends: the store's, then the spool's, each with what to do. */
function describeBacklog({ pending, dead, spooled, spooledWithOtherSettings }: Backlog): string {
  const held = [
    pending && `${plural(pending, 'trace')} pending (\`${commandLine('traces list --status pending')}\`)`,
    dead && `${plural(dead, 'trace')} refused (\`${commandLine('traces list --status dead')}\`)`,
  ].filter(Boolean);
  const batches = (n: number, settings = '') =>
    `${plural(n, 'batch', 'batches')} of spans left by stopped runs${settings} ${n === 1 ? 'waits' : 'wait'} in the spool`;
  const parts = [
    held.length > 0 && `the store also holds ${held.join(' and ')}`,
    spooled > 0 && `${batches(spooled)} (\`${commandLine('traces push')}\` takes ${spooled === 1 ? 'it' : 'them'} in)`,
    spooledWithOtherSettings > 0 &&
      `${batches(spooledWithOtherSettings, ' with other settings (destination, content capture)')} for a \`run\`, \`relay\` or \`traces push\` with theirs`,
  ].filter(Boolean);
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}

function exportHint(status: number | undefined): string {
  if (status === 401 || status === 403) return 'the server refused the credentials on export; check the token and its permissions';
  if (status === 400) return 'the server refused the payload format (reason above); try --otlp-encoding protobuf, or --export-path rest';
  if (status === 404 || status === 422) return 'the experiment id was refused; check MLFLOW_EXPERIMENT_ID / the experiment name';
  return 'check the server log for the failing request';
}
