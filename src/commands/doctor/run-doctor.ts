import { lookup } from 'node:dns/promises';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../config/load-config.ts';
import { describeSource } from '../../config/mask.ts';
import { isMlflowDestination, type LoadConfigOptions, type ResolvedConfig } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { storedTraceSource } from '../../pipeline/store/stored-trace-source.ts';
import type { StateCounts } from '../../pipeline/store/trace-reads.ts';
import { TraceStore } from '../../pipeline/store/trace-store.ts';
import { refuseRunWithoutExperiment } from '../../mlflow/check-run.ts';
import { connectToTracking } from '../../mlflow/connect.ts';
import { MlflowApiError } from '../../mlflow/errors.ts';
import { getExperiment, getExperimentByName, type Experiment } from '../../mlflow/experiments.ts';
import type { MlflowHttp } from '../../mlflow/http.ts';
import { isRedirect } from '../../mlflow/redirect.ts';
import type { MlflowRun } from '../../mlflow/runs.ts';
import { searchTraces } from '../../mlflow/traces.ts';
import { capabilitiesFor, compareVersions, type ServerCapabilities } from '../../mlflow/server-info.ts';
import { experimentUrl, traceUrl } from '../../mlflow/ui-links.ts';
import { checkTargetRun, chooseRoute, ensureTargetExperiment, otlpUnavailableError, resolveDestination } from '../../destination/resolve.ts';
import { routeName, type ResolvedDestination } from '../../destination/resolved-destination.ts';
import { isExperimentTarget, targetKey, targetOf, type Target } from '../../destination/target.ts';
import { VERSION } from '../../version.ts';
import { mlflowTraceSource, readBackTrace, type ReadBackTrace, type TraceSource } from './read-back.ts';
import { sendTestTrace, type SentTestTrace } from './test-traces.ts';
import { plural } from '../../util/plural.ts';
import { flushAndReport, type TraceExportStatus } from '../../runtime/trace-export-status.ts';
import { commandLine } from '../../util/invocation.ts';

export type CheckId = 'config' | 'reachable' | 'server' | 'credentials' | 'experiment' | 'export-path' | 'send' | 'read-back';
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
  exitCode?: ExitCode;
  durationMs: number;
}

export interface DoctorReporter {
  start(id: CheckId, title: string): void;
  end(result: CheckResult): void;
}

export interface DoctorInput {
  config: LoadConfigOptions;
  traces: number;
  createExperiment: boolean;
  readBackTimeoutMs: number;
  /** Asks the person at the terminal; absent when nobody can answer (no TTY, --json). */
  confirm?: (question: string) => Promise<boolean>;
  reporter?: DoctorReporter;
}

export interface DoctorTrace extends ReadBackTrace {
  url?: string;
  exported: boolean;
  exportError?: string;
}

export interface DoctorReport {
  ok: boolean;
  exitCode: ExitCode;
  checks: CheckResult[];
  destination: string;
  serverVersion?: string;
  experiment?: { id: string; name?: string; url?: string };
  /** How the test traces went: `otlp` or `rest` into MLflow, `unity-catalog`, `collector`, or `local`. */
  exportRoute?: 'otlp' | 'rest' | 'unity-catalog' | 'collector' | 'local';
  /** Local-only mode (nothing configured): where the test traces were kept. */
  localStore?: string;
  /** Of doctor's test traces: delivered (or kept, locally), still pending on disk, refused. */
  export?: { exported: number; pending: number; failed: number };
  traces: DoctorTrace[];
}

const TITLES: Record<CheckId, string> = {
  config: 'Configuration',
  reachable: 'Tracking server reachable',
  server: 'MLflow server',
  credentials: 'Credentials',
  experiment: 'Experiment',
  'export-path': 'Export path',
  send: 'Send test traces',
  'read-back': 'Read traces back from MLflow',
};

type Outcome = Omit<CheckResult, 'id' | 'title' | 'durationMs'>;

/** Below this, the server refuses gzip (3.6). */
const RECOMMENDED_VERSION = '3.7.0';

/**
 * Doctor's checks in order. Each check either passes, warns, fails or is skipped because an earlier
 * one it depends on failed. The library reports through `reporter` and returns everything; it never prints.
 */
export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const report: DoctorReport = { ok: false, exitCode: ExitCode.ok, checks, destination: 'local', traces: [] };
  let blockedBy: CheckId | undefined;

  const titles = { ...TITLES };
  const run = async (id: CheckId, body: () => Promise<Outcome>, blocking = true): Promise<CheckResult> => {
    const title = titles[id];
    if (blockedBy) {
      const skipped: CheckResult = { id, title, status: 'skipped', detail: `not run, as the check "${titles[blockedBy]}" failed`, durationMs: 0 };
      checks.push(skipped);
      input.reporter?.end(skipped);
      return skipped;
    }
    input.reporter?.start(id, title);
    const started = performance.now();
    let outcome: Outcome;
    try {
      outcome = await body();
    } catch (error) {
      if (!(error instanceof ExpectedError)) throw error;
      outcome = { status: 'fail', detail: error.message, exitCode: error.exitCode, ...(error.hint && { hint: error.hint }) };
    }
    const result: CheckResult = { id, title, ...outcome, durationMs: Math.round(performance.now() - started) };
    checks.push(result);
    input.reporter?.end(result);
    if (result.status === 'fail' && blocking) blockedBy = id;
    return result;
  };

  let config: ResolvedConfig | undefined;
  await run('config', async () => {
    config = await loadConfig(input.config);
    const outcome = describeConfig(config);
    // Valid but most likely not meant (a demo placeholder, Databricks variables nothing uses): say so first.
    return config.notices.length > 0 ? { ...outcome, status: 'warn', hint: [...config.notices, outcome.hint].filter(Boolean).join('; ') } : outcome;
  });

  const destination = config?.destination;
  report.destination = destination?.kind ?? 'local';
  const target: Target | undefined = config && targetOf(config);
  const connection = config && connectToTracking(config);
  const http = connection?.http;
  const auth = connection?.auth;
  const selfHosted = destination?.kind === 'mlflow';
  const isCollector = destination?.kind === 'collector';
  // Nothing configured: the test traces go to the local store and are read back from there.
  const isLocal = destination?.kind === 'local';
  if (isLocal) {
    report.localStore = config!.storeDir.value;
    titles['read-back'] = 'Read traces back from the local store';
  }
  // A Unity Catalog table takes spans without an experiment, and is read with SQL, not MLflow's APIs.
  const usesExperiment = isMlflowDestination(destination);
  const withoutExperiment = (): Outcome =>
    isCollector
      ? skippedForCollector()
      : isLocal
        ? skippedForLocalStore()
        : { status: 'skipped', detail: 'a Unity Catalog table needs no experiment; credentials are checked on export' };

  await run('reachable', async () => (isCollector ? skippedForCollector() : isLocal ? skippedForLocalStore() : checkReachable(http!)));

  let capabilities: ServerCapabilities | undefined;
  await run('server', async () => {
    if (isLocal) return skippedForLocalStore();
    if (!selfHosted) return { status: 'skipped', detail: isCollector ? 'an OTLP collector, not MLflow' : 'Databricks-managed MLflow' };
    const { version, outcome } = await identifyServer(http!);
    if (version) {
      report.serverVersion = version;
      capabilities = capabilitiesFor(version);
    }
    return outcome;
  });

  let experiment: Experiment | undefined;
  await run('credentials', async () => {
    if (!usesExperiment) return withoutExperiment();
    const ref = config!.experiment;
    // Any authenticated answer proves the credentials; the experiment lookup is needed next anyway.
    experiment =
      ref.kind === 'id' ? await getExperiment(http!, ref.id.value) : await getExperimentByName(http!, ref.name.value);
    return { status: 'ok', detail: config!.auth.kind === 'none' ? 'the server asks for none' : `${auth!.describe()}: accepted` };
  });

  // The resolver's steps one by one, in its order, so each is reported as a check of its own.
  let linkedRun: MlflowRun | undefined;
  let ensured: Awaited<ReturnType<typeof ensureTargetExperiment>> | undefined;
  await run('experiment', async () => {
    // Checked first: a run that cannot take the test traces must not leave a new experiment behind.
    refuseRunWithoutExperiment(config!);
    if (!isExperimentTarget(target)) return withoutExperiment();
    linkedRun = await checkTargetRun(http!, target);
    const consent = input.createExperiment || (input.confirm ?? false);
    ensured = await ensureTargetExperiment(
      http!,
      target,
      { createMissing: consent, restoreDeleted: consent, experimentHint: 'set MLFLOW_EXPERIMENT_NAME_BASIC / --experiment to an existing one', consentFlag: '--create-experiment' },
      experiment,
    );
    const experimentId = ensured.experiment.experimentId;
    report.experiment = { id: experimentId, name: ensured.experiment.name, url: experimentUrl(target, experimentId) };
    const verb = { found: '', created: 'created ', restored: 'restored deleted experiment ' }[ensured.action];
    const linked = linkedRun ? `; test traces linked to run ${linkedRun.name ? `'${linkedRun.name}' ` : ''}(${linkedRun.runId})` : '';
    return { status: 'ok', detail: `${verb}${ensured.label} (id ${experimentId})${linked}` };
  });

  let resolved: ResolvedDestination | undefined;
  await run(
    'export-path',
    async () => {
      if (!target) {
        report.exportRoute = 'local';
        return describeLocal(config!.storeDir.value);
      }
      resolved = isExperimentTarget(target)
        ? await chooseRoute(http!, config!, { target, key: targetKey(target), experiment: ensured!, ...(linkedRun && { run: linkedRun }), ...(capabilities && { capabilities }) })
        : await resolveDestination(target, config!, { ...(http && { http }) });
      report.exportRoute = resolved.kind === 'mlflow' || resolved.kind === 'databricks' ? resolved.route.via : resolved.kind;
      return describeRoute(resolved);
    },
    false,
  );
  const experimentId = report.experiment?.id;

  let sent: SentTestTrace[] = [];
  await run('send', async () => {
    if (target && !resolved) throw new ExpectedError('no export path could be chosen', { exitCode: ExitCode.export });
    const { startTracing, FLUSH_DEADLINE_MS } = await import('../../runtime/start-tracing.ts');
    const tracing = await startTracing({
      target,
      ...(resolved && { destination: resolved }),
      auth: config!.auth,
      storeDir: config!.storeDir.value,
      store: { maxBytes: config!.storeMaxBytes.value },
      origin: 'doctor',
      serviceName: config!.serviceName.value,
      resourceAttributes: config!.resourceAttributes.value,
      version: VERSION,
    });
    const runId = randomUUID().slice(0, 8);
    let outcomes: TraceExportStatus[] = [];
    let backlog = '';
    try {
      sent = Array.from({ length: input.traces }, (_, i) => sendTestTrace(tracing.tracer, i, runId));
      outcomes = (await flushAndReport(tracing, sent.map((trace) => trace.traceId), FLUSH_DEADLINE_MS)) ?? [];
      if (tracing.pipeline) backlog = describeBacklog(tracing.pipeline.store.reads.counts());
    } finally {
      await tracing.shutdown(0);
    }
    sent.forEach((trace, i) => {
      const outcome = outcomes[i]!;
      const url = experimentId && isExperimentTarget(target) ? traceUrl(target, experimentId, trace.traceId) : undefined;
      report.traces.push({
        traceId: trace.traceId,
        found: false,
        spanNames: [],
        spanTypes: {},
        problems: [],
        exported: outcome.exported,
        ...(outcome.reason !== undefined && { exportError: outcome.reason }),
        ...(url && { url }),
      });
    });
    const exported = outcomes.filter((o) => o.exported).length;
    const failures = outcomes.filter((o) => !o.exported);
    const waiting = failures.filter((f) => f.waiting).length;
    report.export = { exported, pending: waiting, failed: failures.length - waiting };
    if (failures.length > 0) {
      const reasons = [...new Set(failures.map((f) => f.reason))];
      return {
        status: 'fail',
        exitCode: ExitCode.export,
        detail: `${exported} of ${plural(sent.length, 'trace')} exported; not exported: ${reasons.join('; ')}`,
        hint: exportHint(failures.map((f) => f.status).find((status) => status !== undefined)),
      };
    }
    return { status: 'ok', detail: `${plural(sent.length, 'trace')} exported via ${resolved ? routeName(resolved) : 'the local store'}${backlog}` };
  });

  await run('read-back', async () => {
    if (!usesExperiment && !isLocal) {
      return {
        status: 'skipped',
        detail: isCollector
          ? 'a collector cannot be read back; look for the traces in its backend'
          : `query the table with SQL to see them: SELECT * FROM ${destination?.kind === 'unity-catalog' ? destination.table.value : ''}`,
      };
    }
    const deadline = Date.now() + input.readBackTimeoutMs;
    const source: TraceSource = isLocal
      ? storedTraceSource(TraceStore.open(config!.storeDir.value))
      : mlflowTraceSource(http!, selfHosted ? 'mlflow' : 'databricks');
    const exported = sent.filter((trace) => report.traces.find((t) => t.traceId === trace.traceId)?.exported);
    const results = await Promise.all(exported.map((trace) => readBackTrace(trace, { source, deadline })));
    if (linkedRun && experimentId) await checkFoundByRun(http!, experimentId, linkedRun.runId, results);
    for (const result of results) Object.assign(report.traces.find((t) => t.traceId === result.traceId)!, result);
    const broken = results.filter((r) => r.problems.length > 0);
    if (broken.length > 0) {
      return {
        status: 'fail',
        exitCode: ExitCode.readback,
        detail: `${results.length - broken.length} of ${plural(results.length, 'trace')} verified; ${broken
          .map((r) => `${r.traceId}: ${r.problems.join(', ')}`)
          .join('; ')}`,
        hint: `traces were accepted but did not read back intact within ${Math.round(input.readBackTimeoutMs / 1000)} s; raise --timeout, or check the server log`,
      };
    }
    const where = isLocal ? ` in ${config!.storeDir.value}` : '';
    return {
      status: 'ok',
      detail: `${plural(results.length, 'trace')} found${where} with ${results[0]?.spanNames.length ?? 0} spans each, span types, token usage and previews intact`,
    };
  });

  const failed = checks.find((c) => c.status === 'fail');
  report.exitCode = failed?.exitCode ?? (failed ? ExitCode.internal : ExitCode.ok);
  report.ok = failed === undefined;
  return report;
}

/** As MLflow's Python client finds a run's traces: `search_traces(run_id=…)` in the run's experiment. */
async function checkFoundByRun(http: MlflowHttp, experimentId: string, runId: string, results: ReadBackTrace[]): Promise<void> {
  const { traces } = await searchTraces(http, { experimentIds: [experimentId], filter: `attribute.run_id = '${runId}'`, maxResults: 100 });
  const found = new Set(traces.map((trace) => trace.traceId));
  for (const result of results) if (result.found && !found.has(result.traceId)) result.problems.push(`not found by its run ${runId}`);
}

function describeConfig(config: ResolvedConfig): Outcome {
  const destination = config.destination;
  switch (destination.kind) {
    case 'local':
      return {
        status: 'warn',
        detail: `no MLflow is configured: traces are kept in ${config.storeDir.value} (from ${describeSource(config.storeDir.source)})`,
        hint: 'to send them to MLflow, set MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000, or databricks) in the environment or .env, or pass --tracking-uri',
      };
    case 'mlflow':
      return { status: 'ok', detail: `MLflow at ${destination.trackingUri.value} (from ${describeSource(destination.trackingUri.source)}); ${describeAuth(config)}` };
    case 'databricks':
    case 'unity-catalog':
      return { status: 'ok', detail: `Databricks workspace ${destination.host.value} (from ${describeSource(destination.host.source)}); ${describeAuth(config)}` };
    case 'collector':
      return { status: 'ok', detail: `OTLP collector at ${destination.endpoint.value} (from ${describeSource(destination.endpoint.source)})` };
  }
}

function describeAuth(config: ResolvedConfig): string {
  const auth = config.auth;
  switch (auth.kind) {
    case 'none':
      return 'no credentials';
    case 'basic':
      return `Basic auth as ${auth.username.value} (from ${describeSource(auth.username.source)})`;
    case 'bearer':
    case 'databricks-pat':
      return `${auth.kind === 'bearer' ? 'bearer token' : 'personal access token'} (from ${describeSource(auth.token.source)})`;
    case 'databricks-oauth-m2m':
      return `OAuth M2M client ${auth.clientId.value} (from ${describeSource(auth.clientId.source)})`;
  }
}

function skippedForLocalStore(): Outcome {
  return { status: 'skipped', detail: 'local store: no MLflow is configured' };
}

function skippedForCollector(): Outcome {
  return { status: 'skipped', detail: 'an OTLP collector is configured; nothing to check on MLflow' };
}

async function checkReachable(http: MlflowHttp): Promise<Outcome> {
  const url = new URL(http.baseUrl);
  const dnsStarted = performance.now();
  try {
    await lookup(url.hostname);
  } catch {
    throw new ExpectedError(`cannot resolve ${url.hostname}`, {
      exitCode: ExitCode.unreachable,
      hint: 'check the host name in MLFLOW_TRACKING_URI / DATABRICKS_HOST, and your DNS or VPN',
    });
  }
  const dnsMs = Math.round(performance.now() - dnsStarted);
  const started = performance.now();
  const response = await http.request({ method: 'GET', path: '/health', auth: false, raw: true });
  // Any answer proves the server is reachable, but a redirect says the tracking URI is not MLflow's.
  if (isRedirect(response.status)) throw MlflowApiError.fromResponse('GET', '/health', response);
  const ms = Math.round(performance.now() - started);
  const tls = url.protocol === 'https:' ? ', TLS ok' : '';
  return { status: 'ok', detail: `${url.host}: DNS ${dnsMs} ms; connected${tls}; HTTP ${response.status} in ${ms} ms` };
}

async function identifyServer(http: MlflowHttp): Promise<{ version?: string; outcome: Outcome }> {
  const response = await http.request({ method: 'GET', path: '/version', raw: true });
  if (isRedirect(response.status)) throw MlflowApiError.fromResponse('GET', '/version', response);
  if (response.status === 401 || response.status === 403) {
    const error = MlflowApiError.fromResponse('GET', '/version', response);
    if (error.fromProxy) throw error;
    return { outcome: { status: 'warn', detail: 'MLflow answers, but its version is behind authentication' } };
  }
  const version = response.text.trim();
  if (response.status !== 200 || !/^\d+\.\d+/.test(version)) {
    throw new ExpectedError(`${http.baseUrl} does not look like an MLflow tracking server (GET /version answered HTTP ${response.status})`, {
      exitCode: ExitCode.unreachable,
      hint: 'point MLFLOW_TRACKING_URI at the server started with `mlflow server` (its root URL, e.g. http://127.0.0.1:5000)',
    });
  }
  if (compareVersions(version, RECOMMENDED_VERSION) < 0) {
    return {
      version,
      outcome: {
        status: 'warn',
        detail: `MLflow ${version}: older than ${RECOMMENDED_VERSION}`,
        hint: 'upgrade (`pip install -U mlflow`): 3.6 refuses gzip, so traces go uncompressed; before 3.6 there is no OTLP route',
      },
    };
  }
  return { version, outcome: { status: 'ok', detail: `MLflow ${version}` } };
}

function describeRoute(destination: ResolvedDestination): Outcome {
  switch (destination.kind) {
    case 'mlflow':
    case 'databricks': {
      const { route, notes } = destination;
      if (route.via === 'otlp') {
        return { status: 'ok', detail: `OTLP/HTTP ${route.encoding}${route.gzip ? ' + gzip' : ''} to /v1/traces${notes.length ? ` (${notes.join('; ')})` : ''}` };
      }
      if (route.otlpUnavailable) {
        // Traces still go over REST below, but OpenTelemetry SDKs and collectors cannot send here.
        const error = otlpUnavailableError(route.otlpUnavailable, destination.target.server);
        return {
          status: 'fail',
          exitCode: error.exitCode,
          detail: `${error.message}; falling back to MLflow REST for the test traces`,
          ...(error.hint && { hint: error.hint }),
        };
      }
      return { status: 'ok', detail: `MLflow REST (StartTraceV3 + traces.json): ${notes.join('; ')}` };
    }
    case 'unity-catalog':
      return { status: 'ok', detail: `OTLP/HTTP protobuf to Unity Catalog table ${destination.target.table}` };
    case 'collector':
      return { status: 'ok', detail: `OTLP/HTTP ${destination.encoding} to ${destination.target.endpoint}` };
  }
}

function describeLocal(dir: string): Outcome {
  return {
    status: 'warn',
    detail: `no MLflow is configured: traces are kept in the local store ${dir}`,
    hint: `set MLFLOW_TRACKING_URI (or run \`${commandLine('init')}\`), then \`${commandLine('traces push')}\` sends them to MLflow`,
  };
}

/** What waits in the store from any run, so a backlog the app built up shows here too. */
function describeBacklog(counts: StateCounts): string {
  const parts = [
    counts.pending > 0 && `${plural(counts.pending, 'trace')} pending (\`${commandLine('traces list --status pending')}\`)`,
    counts.dead > 0 && `${plural(counts.dead, 'trace')} refused (\`${commandLine('traces list --status dead')}\`)`,
  ].filter(Boolean);
  return parts.length > 0 ? `; the store also holds ${parts.join(' and ')}` : '';
}

function exportHint(status: number | undefined): string {
  if (status === 401 || status === 403) return 'the server refused the credentials on export; check the token and its permissions';
  if (status === 400) return 'the server refused the payload format (reason above); try --otlp-encoding protobuf, or --export-path rest';
  if (status === 404 || status === 422) return 'the experiment id was refused; check MLFLOW_EXPERIMENT_ID / the experiment name';
  return 'check the server log for the failing request';
}
