import { describeSource, maskSecret } from './mask.ts';
import type { AuthSettings, Destination, ExperimentRef, ResolvedConfig, Sourced } from './types.ts';

/**
 * Stable keys for scripts. Entries are masked by the option table's secret flag; credentials in
 * `auth` and OTLP header values are secrets by what they are.
 */
export function configToJson(config: ResolvedConfig): object {
  return {
    destination: destinationJson(config.destination),
    auth: authJson(config.auth),
    experiment: experimentJson(config.experiment),
    entries: config.entries.map((entry) => ({
      key: entry.key,
      value: entry.secret ? maskSecret(entry.value) : entry.value,
      source: describeSource(entry.source),
      secret: entry.secret,
    })),
    files: {
      dotenv: config.files.dotenv ?? null,
      configFile: config.files.configFile ?? null,
      databricksCfg: config.files.databricksCfg ?? null,
    },
  };
}

function plain(sourced: Sourced<string>) {
  return { value: sourced.value, source: describeSource(sourced.source) };
}

function secret(sourced: Sourced<string>) {
  return { value: maskSecret(sourced.value), source: describeSource(sourced.source) };
}

function destinationJson(destination: Destination) {
  switch (destination.kind) {
    case 'none':
      return { kind: destination.kind };
    case 'mlflow':
      return { kind: destination.kind, trackingUri: plain(destination.trackingUri) };
    case 'databricks':
      return { kind: destination.kind, host: plain(destination.host), profile: destination.profile ? plain(destination.profile) : null };
    case 'databricks-uc':
      return {
        kind: destination.kind,
        host: plain(destination.host),
        table: plain(destination.table),
        profile: destination.profile ? plain(destination.profile) : null,
      };
    case 'otlp': {
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

/** For people: what goes where, then every value with its source, then the files read. */
export function configToLines(config: ResolvedConfig): string[] {
  const header = [
    ['Destination', describeDestination(config.destination)],
    ['Auth', describeAuth(config.auth)],
    ['Experiment', config.experiment.kind === 'id' ? `id ${config.experiment.id.value}` : `name ${config.experiment.name.value}`],
  ];
  const rows = config.entries.map((entry) => [
    entry.key,
    entry.secret ? maskSecret(entry.value) : entry.value,
    describeSource(entry.source),
  ]);
  const files = [
    ['.env', config.files.dotenv],
    ['config file', config.files.configFile],
    ['databrickscfg', config.files.databricksCfg],
  ].map(([label, path]) => [`  ${label}`, path ?? '(none)']);
  return [
    ...columns(header.map(([label, text]) => [`${label}:`, text!])),
    '',
    ...columns([['KEY', 'VALUE', 'SOURCE'], ...rows]),
    '',
    'Files:',
    ...columns(files as string[][]),
  ];
}

function describeDestination(destination: Destination): string {
  switch (destination.kind) {
    case 'none':
      return 'none (set MLFLOW_TRACKING_URI, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT for a collector)';
    case 'mlflow':
      return `mlflow (self-hosted MLflow at ${destination.trackingUri.value})`;
    case 'databricks':
      return `databricks (workspace ${destination.host.value}${destination.profile ? `, profile ${destination.profile.value}` : ''})`;
    case 'databricks-uc':
      return `databricks-uc (table ${destination.table.value} in workspace ${destination.host.value}${destination.profile ? `, profile ${destination.profile.value}` : ''})`;
    case 'otlp':
      return `otlp (collector at ${destination.endpoint.value})`;
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
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}
