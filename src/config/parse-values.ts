/**
 * Parsers for single config values. A problem is a predicate phrase ("must be …", "is …") that the
 * loader prefixes with the variable or key name. Parsers of secret options never quote the value.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
export type Parse<T> = (text: string) => Parsed<T>;

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}

export function parseText(text: string): Parsed<string> {
  return ok(text);
}

/** A parser that takes one of a fixed list, which it keeps for the command line to offer as choices. */
interface ChoiceParse<T extends string> extends Parse<T> {
  readonly choices: readonly T[];
}

export function oneOf<const T extends string>(choices: readonly T[]): ChoiceParse<T> {
  const parse: Parse<T> = (text) => {
    const choice = choices.find((c) => c === text);
    return choice === undefined ? fail(`must be one of ${choices.join(', ')} (got '${text}')`) : ok(choice);
  };
  return Object.assign(parse, { choices });
}

/** Booleans as people write them in env files: true/false, 1/0, yes/no, on/off. */
export function parseBoolean(text: string): Parsed<boolean> {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return ok(true);
  if (['false', '0', 'no', 'off'].includes(value)) return ok(false);
  return fail(`must be true or false (got '${text}')`);
}

/** A ratio such as OTEL_TRACES_SAMPLER_ARG: a number from 0 to 1. */
export function parseRatio(text: string): Parsed<number> {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) && value >= 0 && value <= 1
    ? ok(value)
    : fail(`must be a number from 0 to 1 (got '${text}')`);
}

/** A size in megabytes, at least 1. */
export function parseMegabytes(text: string): Parsed<number> {
  const value = Number(text.trim());
  return Number.isInteger(value) && value >= 1 ? ok(value) : fail(`must be a whole number of megabytes, at least 1 (got '${text}')`);
}

export function parseExperimentId(text: string): Parsed<string> {
  return /^\d+$/.test(text)
    ? ok(text)
    : fail(
        `must be a numeric experiment id such as 1234567890 (got '${text}'); to pick an experiment by name use --experiment or MLFLOW_EXPERIMENT_NAME`,
      );
}

/** MLflow's own rule for run ids (mlflow/utils/validation.py `_RUN_ID_REGEX`). */
export function parseRunId(text: string): Parsed<string> {
  return /^[a-zA-Z0-9][\w-]{0,255}$/.test(text)
    ? ok(text)
    : fail(`must be an MLflow run id such as 0f6c3bd1e1a44a5c9b8a0d6a4f1e2c3d (got '${text}')`);
}

/**
 * An http(s) URL without credentials in it (they would end up in logs and output). URLs are not
 * quoted back in problems for the same reason.
 */
export function parseHttpUrl(text: string): Parsed<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail(`must be an http:// or https:// URL (got a ${url.protocol} URL)`);
  }
  if (url.username || url.password) {
    return fail('must not contain a user name or password; put credentials in their own variables');
  }
  return ok(text);
}

/** OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: the OTel spec appends the signal path to it. */
export function parseOtlpBaseEndpoint(text: string): Parsed<string> {
  const parsed = parseHttpUrl(text);
  return parsed.ok ? ok(`${text.replace(/\/+$/, '')}/v1/traces`) : parsed;
}

/**
 * The encoding the protocol carries. grpc carries protobuf: set for a program's own exporters (Python's
 * distro defaults to it), it must not stop the tool, whose receivers take gRPC and which never sends it;
 * only a collector's endpoint given for grpc is refused, by the loader (collectorProtocolProblems).
 */
export function parseOtlpProtocol(text: string): Parsed<'protobuf' | 'json'> {
  switch (text) {
    case 'http/protobuf':
    case 'grpc':
      return ok('protobuf');
    case 'http/json':
      return ok('json');
    default:
      return fail(`must be http/protobuf, http/json or grpc (got '${text}')`);
  }
}

/**
 * The `key=value,key2=value2` lists of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS, values
 * percent-decoded as the OTel spec says. Problems name item positions, not contents: header values
 * are secrets.
 */
export function parseKeyValueList(text: string): Parsed<Record<string, string>> {
  const result: Record<string, string> = {};
  const malformed: number[] = [];
  const badEncoding: number[] = [];
  text.split(',').forEach((item, index) => {
    if (item.trim() === '') return;
    const eq = item.indexOf('=');
    const key = eq < 0 ? '' : item.slice(0, eq).trim();
    if (key === '') {
      malformed.push(index + 1);
      return;
    }
    try {
      result[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      badEncoding.push(index + 1);
    }
  });
  const problems = [
    ...(malformed.length ? [`not key=value: item ${malformed.join(', ')}`] : []),
    ...(badEncoding.length ? [`bad percent-encoding: item ${badEncoding.join(', ')}`] : []),
  ];
  return problems.length ? fail(`must be a comma-separated list of key=value pairs (${problems.join('; ')})`) : ok(result);
}

/** `catalog.schema.table`, as the Databricks OTLP route expects in X-Databricks-UC-Table-Name. */
export function parseUcTable(text: string): Parsed<string> {
  return /^[^.\s]+\.[^.\s]+\.[^.\s]+$/.test(text)
    ? ok(text)
    : fail(`must be a Unity Catalog table name <catalog>.<schema>.<table>, e.g. main.traces.app_otel_spans (got '${text}')`);
}

const DATABRICKS_HOST_SUFFIXES = ['.cloud.databricks.com', '.azuredatabricks.net', '.gcp.databricks.com'];

export function isDatabricksWorkspaceHostname(hostname: string): boolean {
  return DATABRICKS_HOST_SUFFIXES.some((suffix) => hostname.endsWith(suffix));
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** A workspace URL as every API call expects it: `https://<host>`, no path, no trailing slash. */
export function parseDatabricksHost(text: string): Parsed<string> {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `https://${text}`);
  } catch {
    return fail('must be a workspace URL such as https://<workspace>.cloud.databricks.com');
  }
  // Plain http only for this machine: a local proxy in front of a workspace, or a test stand-in.
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    return fail(`must use https:// (Databricks workspaces only answer over HTTPS): https://${url.host}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    return fail('must be a workspace URL such as https://<workspace>.cloud.databricks.com, without credentials');
  }
  return ok(url.origin);
}

/**
 * The browser origins `serve` answers cross-origin requests from: `scheme://host[:port]` as a browser
 * sends it in `Origin` (no path, no trailing slash), comma-separated; `*` for any origin.
 */
export function parseOriginList(text: string): Parsed<string[]> {
  const origins = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (origins.length === 0) return fail('must name at least one origin, such as http://localhost:3000');
  for (const origin of origins) {
    if (origin === '*') continue;
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
      return fail(`must list origins as a browser sends them, such as http://localhost:3000 (scheme, host and port only; got '${origin}')`);
    }
  }
  return ok(origins);
}
