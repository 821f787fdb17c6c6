import { fail, isDatabricksWorkspaceHostname, ok, type Parsed } from './parse-values.ts';

export type TrackingTarget =
  /** `databricks` or `databricks://<profile>`. */
  | { kind: 'databricks'; profile?: string }
  /** An http(s) server; `workspace` when the host is a Databricks workspace by its name alone. */
  | { kind: 'http'; uri: string; origin: string; hostname: string; workspace: boolean };

const SERVER_URI_HINT = 'set MLFLOW_TRACKING_URI=http://127.0.0.1:5000';

/** What MLflow's own clients accept, minus the stores that need a server in front of them to take traces. */
export function classifyTrackingUri(text: string): Parsed<TrackingTarget> {
  if (text === 'databricks') return ok({ kind: 'databricks' });
  if (text.startsWith('databricks://')) {
    const profile = text.slice('databricks://'.length);
    return profile
      ? ok({ kind: 'databricks', profile })
      : fail('names no profile: use databricks for the DEFAULT profile or databricks://<profile>');
  }
  if (/^https?:\/\//i.test(text)) return classifyHttp(text);
  const server = withoutScheme(text);
  if (server !== undefined)
    return fail(`has no scheme, so MLflow would read it as a local path; for the server at that address use ${server}`);
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'file' || scheme === undefined) {
    return fail(
      `is a local file store, which takes no traces over the network; start a server on it (\`mlflow server --backend-store-uri ${text}\`) and ${SERVER_URI_HINT}`,
    );
  }
  if (['sqlite', 'postgresql', 'mysql', 'mssql'].some((db) => scheme.startsWith(db))) {
    return fail(
      `is a database URI, which only a server can use; start one on it (\`mlflow server --backend-store-uri <this URI>\`) and ${SERVER_URI_HINT}`,
    );
  }
  return fail(`has a scheme otel-mlflow cannot use (${scheme}:); use http(s)://<server>, databricks or databricks://<profile>`);
}

/**
 * `127.0.0.1:5000`, `localhost:5000`, `mlflow:5000/prefix`, `<workspace>.cloud.databricks.com`: a server address missing its
 * scheme, which MLflow's clients would take for a file path (or `localhost:` for a scheme). The URL
 * it meant, or undefined when the text does not look like an address.
 */
function withoutScheme(text: string): string | undefined {
  const match = /^(localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*)(:\d{1,5})?(\/\S*)?$/i.exec(text);
  if (!match) return undefined;
  const [, host, port, path] = match;
  const workspace = isDatabricksWorkspaceHostname(host!.toLowerCase());
  // Without a port it could as well be a directory (`mlruns`, `my.runs`); a workspace's name cannot.
  if (port === undefined && !workspace) return undefined;
  const scheme = workspace ? 'https' : 'http';
  return `${scheme}://${host}${port ?? ''}${(path ?? '').replace(/\/+$/, '')}`;
}

function classifyHttp(text: string): Parsed<TrackingTarget> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('is not a valid URL; use http(s)://<host>[:port][/path]');
  }
  if (url.username || url.password) {
    return fail('must not contain a user name or password; set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD instead');
  }
  if (url.search || url.hash) {
    return fail('must not have a query string or fragment; use http(s)://<host>[:port][/path]');
  }
  // A path prefix stays (MLflow behind a proxy at /mlflow); API paths are appended to it.
  const uri = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  return ok({ kind: 'http', uri, origin: url.origin, hostname: url.hostname, workspace: isDatabricksWorkspaceHostname(url.hostname) });
}

/** The normalised URI kept in the config: trailing slashes gone, everything else as given. */
export function parseTrackingUri(text: string): Parsed<string> {
  const target = classifyTrackingUri(text);
  if (!target.ok) return target;
  return ok(target.value.kind === 'http' ? target.value.uri : text);
}
