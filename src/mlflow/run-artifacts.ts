import { ExitCode, ExpectedError } from '../errors.ts';
import { undefinedIfMissing } from './errors.ts';
import { ARTIFACT_MAX_RESPONSE_BYTES, type MlflowHttp } from './http.ts';

const PROXIED = 'mlflow-artifacts:/';

/**
 * Where a run's artifact is reached through the server's artifact proxy (`mlflow server
 * --serve-artifacts`, the default): `mlflow-artifacts:/1/<run>/artifacts` + name. Other artifact
 * roots (s3://, dbfs:/ on Databricks, a local path) are written by clients directly and are not
 * supported here: an ExpectedError says so.
 */
export function proxiedArtifactPath(artifactUri: string | undefined, name: string): string {
  if (!artifactUri?.startsWith(PROXIED)) {
    throw new ExpectedError(`the run keeps its artifacts at ${artifactUri ?? '(no location)'}, which the server does not proxy`, {
      exitCode: ExitCode.export,
      hint: 'run `mlflow server` with artifact serving on (the default, --serve-artifacts); Databricks run artifacts are not supported yet',
    });
  }
  const path = artifactUri.slice(PROXIED.length).replace(/^\/+/, '').replace(/\/+$/, '');
  return `/api/2.0/mlflow-artifacts/artifacts/${path.split('/').map(encodeURIComponent).join('/')}/${encodeURIComponent(name)}`;
}

/** Uploads one file as the run's artifact `name` (replacing one of that name). */
export async function uploadRunArtifact(
  http: MlflowHttp,
  artifactUri: string | undefined,
  name: string,
  body: string,
  contentType: string,
): Promise<void> {
  await http.request({ method: 'PUT', path: proxiedArtifactPath(artifactUri, name), body, headers: { 'Content-Type': contentType } });
}

/** The run's artifact `name` as text; undefined when the run has none of that name. */
export async function downloadRunArtifact(http: MlflowHttp, artifactUri: string | undefined, name: string): Promise<string | undefined> {
  const path = proxiedArtifactPath(artifactUri, name);
  return undefinedIfMissing(() =>
    http.request<string>({ method: 'GET', path, responseType: 'text', maxResponseBytes: ARTIFACT_MAX_RESPONSE_BYTES }),
  );
}
