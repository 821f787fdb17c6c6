import type { ConfigProblem } from '../errors.ts';
import { chooseProvider, describeLlm } from './llm-choice.ts';
import type { ConfigInspection } from './load-config.ts';
import { describeSource, maskSecret } from './mask.ts';
import type { AuthSettings, ConfigEntry, Destination, ExperimentRef, ResolvedConfig, Sourced } from './types.ts';

/** What `config` shows: the configuration as doctor loads it, and as the app commands (serve, ask, suite) do. */
export interface ConfigViews {
  doctor: ResolvedConfig;
  app: ResolvedConfig;
}

/** Who uses what: the experiment and the model differ between doctor and the app commands. */
const APP_COMMANDS = 'serve, ask, suite';

/**
 * Stable keys for scripts. Entries are masked by the option table's secret flag; credentials in
 * `auth` and OTLP header values are secrets by what they are.
 */
export function configToJson({ doctor: config, app }: ConfigViews): object {
  const { provider } = chooseProvider(app);
  return {
    ok: true,
    destination: destinationJson(config.destination),
    auth: authJson(config.auth),
    experiment: experimentJson(config.experiment),
    appExperiment: experimentJson(app.experiment),
    llm: { provider, description: describeLlm(provider, app), captureContent: app.llm.captureContent.value },
    storeDir: plain(app.storeDir),
    entries: entriesJson(config.entries),
    files: filesJson(config.files),
    notices: allNotices({ doctor: config, app }),
  };
}

/** An invalid configuration: every value that did resolve, and what is wrong. */
export function invalidConfigToJson(inspection: ConfigInspection, problems: readonly ConfigProblem[]): object {
  return { ok: false, entries: entriesJson(inspection.entries), files: filesJson(inspection.files), problems };
}

function entriesJson(entries: ConfigEntry[]) {
  return entries.map((entry) => ({
    key: entry.key,
    value: entry.secret ? maskSecret(entry.value) : entry.value,
    source: describeSource(entry.source),
    secret: entry.secret,
  }));
}

function filesJson(files: ResolvedConfig['files']) {
  return { dotenv: files.dotenv ?? null, configFile: files.configFile ?? null, databricksCfg: files.databricksCfg ?? null };
}

function plain(sourced: Sourced<string>) {
  return { value: sourced.value, source: describeSource(sourced.source) };
}

function secret(sourced: Sourced<string>) {
  return { value: maskSecret(sourced.value), source: describeSource(sourced.source) };
}

function destinationJson(destination: Destination) {
  switch (destination.kind) {
    case 'local':
      return { kind: destination.kind };
    case 'mlflow':
      return { kind: destination.kind, trackingUri: plain(destination.trackingUri) };
    case 'databricks':
      return { kind: destination.kind, host: plain(destination.host), profile: destination.profile ? plain(destination.profile) : null };
    case 'unity-catalog':
      return {
        kind: destination.kind,
        host: plain(destination.host),
        table: plain(destination.table),
        profile: destination.profile ? plain(destination.profile) : null,
      };
    case 'collector': {
      const headers = destination.headers;
      return {
        kind: destination.kind,
        endpoint: plain(destination.endpoint),
        headers: headers
          ? {
              value: Object.fromEntries(Object.entries(headers.value).map(([k, v]) => [k, maskSecret(v)])),
              source: describeSource(headers.source),
            }
          : null,
      };
    }
  }
}

function authJson(auth: AuthSettings) {
  switch (auth.kind) {
    case 'none':
      return { kind: auth.kind };
    case 'basic':
      return { kind: auth.kind, username: plain(auth.username), password: secret(auth.password) };
    case 'bearer':
    case 'databricks-pat':
      return { kind: auth.kind, token: secret(auth.token) };
    case 'databricks-oauth-m2m':
      return { kind: auth.kind, clientId: plain(auth.clientId), clientSecret: secret(auth.clientSecret) };
  }
}

function experimentJson(experiment: ExperimentRef) {
  return experiment.kind === 'id'
    ? { kind: experiment.kind, id: plain(experiment.id) }
    : { kind: experiment.kind, name: plain(experiment.name) };
}

function describeSampling(config: ResolvedConfig): string {
  const { disabled, sampler, samplerArg } = config.tracing;
  if (disabled.value) return 'OpenTelemetry disabled (OTEL_SDK_DISABLED): no traces at all';
  const ratio = samplerArg?.value ?? 1;
  switch (sampler.value) {
    case 'always_on':
      return 'every trace is recorded (always_on)';
    case 'parentbased_always_on':
      return 'every trace is recorded, unless an incoming traceparent says it was not sampled (parentbased_always_on)';
    case 'always_off':
      return 'no trace is recorded (always_off)';
    case 'parentbased_always_off':
      return 'only traces an incoming traceparent says were sampled (parentbased_always_off)';
    case 'traceidratio':
      return `${ratio * 100}% of traces, by trace id (traceidratio ${ratio})`;
    case 'parentbased_traceidratio':
      return `${ratio * 100}% of new traces by trace id; an incoming traceparent decides for its own (parentbased_traceidratio ${ratio})`;
  }
}

/** For people: what each command will use, then every value with its source, then the files read. */
export function configToLines({ doctor: config, app }: ConfigViews): string[] {
  const { provider, reason } = chooseProvider(app);
  const header = [
    ['Destination', describeDestination(config.destination)],
    ['Auth', describeAuth(config.auth)],
    ['Experiment', `${describeExperiment(config.experiment)} — doctor`],
    ['', `${describeExperiment(app.experiment)} — ${APP_COMMANDS}`],
    ['LLM', `${describeLlm(provider, app)} — ${APP_COMMANDS}${reason === 'default' ? ' (nothing configured)' : ''}`],
    ['Message content', app.llm.captureContent.value ? 'recorded on LLM spans' : 'not recorded (--no-capture-content)'],
    [
      'Trace store',
      `${app.storeDir.value} (cap ${Math.round(app.storeMaxBytes.value / 1024 ** 2)} MB) — every trace is written here first, then delivered; traces list/show/push/prune`,
    ],
    ['Sampling', describeSampling(app)],
  ];
  return [
    ...columns(header.map(([label, text]) => [label ? `${label}:` : '', text!])),
    ...allNotices({ doctor: config, app }).flatMap((notice, i) => [...(i === 0 ? [''] : []), `! ${notice}`]),
    '',
    ...valueLines({ entries: config.entries, files: config.files }),
  ];
}

/** Each view has its own experiment variable, so each can have its own notices. */
function allNotices({ doctor, app }: ConfigViews): string[] {
  return [...new Set([...doctor.notices, ...app.notices])];
}

/** Every value that resolved with its source, then the files read: also what an invalid configuration shows. */
export function valueLines({ entries, files }: Pick<ConfigInspection, 'entries' | 'files'>): string[] {
  const rows = entries.map((entry) => [entry.key, entry.secret ? maskSecret(entry.value) : entry.value, describeSource(entry.source)]);
  const fileRows = [
    ['.env', files.dotenv],
    ['config file', files.configFile],
    ['databrickscfg', files.databricksCfg],
  ].map(([label, path]) => [`  ${label}`, path ?? '(none)']);
  return [...columns([['KEY', 'VALUE', 'SOURCE'], ...rows]), '', 'Files:', ...columns(fileRows as string[][])];
}

function describeExperiment(experiment: ExperimentRef): string {
  return experiment.kind === 'id' ? `id ${experiment.id.value}` : `name ${experiment.name.value}`;
}

function describeDestination(destination: Destination): string {
  switch (destination.kind) {
    case 'local':
      return 'local (set MLFLOW_TRACKING_URI, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT for a collector)';
    case 'mlflow':
      return `mlflow (self-hosted MLflow at ${destination.trackingUri.value})`;
    case 'databricks':
      return `databricks (workspace ${destination.host.value}${destination.profile ? `, profile ${destination.profile.value}` : ''})`;
    case 'unity-catalog':
      return `unity-catalog (table ${destination.table.value} in workspace ${destination.host.value}${destination.profile ? `, profile ${destination.profile.value}` : ''})`;
    case 'collector':
      return `collector (at ${destination.endpoint.value})`;
  }
}

function describeAuth(auth: AuthSettings): string {
  switch (auth.kind) {
    case 'none':
      return 'none';
    case 'basic':
      return `basic (user ${auth.username.value})`;
    case 'bearer':
      return 'bearer (MLflow tracking token)';
    case 'databricks-pat':
      return 'databricks-pat (personal access token)';
    case 'databricks-oauth-m2m':
      return `databricks-oauth-m2m (client ${auth.clientId.value})`;
  }
}

function columns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
