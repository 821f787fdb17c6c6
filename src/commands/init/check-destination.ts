import type { AuthSettings } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { connectTo } from '../../mlflow/connect.ts';
import { UnreachableError } from '../../http-client/unreachable.ts';
import { searchExperiments, type Experiment } from '../../mlflow/experiments.ts';
import type { MlflowHttp } from '../../mlflow/http.ts';
import { pathForDisplay } from '../../http-client/redaction.ts';
import { describeRedirect, isRedirect } from '../../http-client/redirect.ts';
import { getServerVersion } from '../../mlflow/server-info.ts';

/** A person is waiting on each answer: fail faster than a long-running command would. */
export const CHECK_TIMEOUT_MS = 10_000;
/** Enough to pick from without scrolling. */
const LISTED_EXPERIMENTS = 20;

export interface TrackingCheck {
  http: MlflowHttp;
  /** Self-hosted MLflow only. */
  version?: string;
  /** Recently updated experiments, to pick from. */
  experiments: Experiment[];
}

/**
 * A self-hosted MLflow server answers as one, and accepts the credentials: `/version` says what it
 * is, and listing experiments needs the same access logging traces does.
 */
export async function checkMlflowServer(trackingUri: string, auth: AuthSettings): Promise<TrackingCheck & { version: string }> {
  const { http } = connectTo(trackingUri, auth, { timeoutMs: CHECK_TIMEOUT_MS });
  const version = await getServerVersion(http);
  return { http, version, experiments: await searchExperiments(http, LISTED_EXPERIMENTS) };
}

/** A Databricks workspace accepts the credential for its MLflow API. */
export async function checkDatabricksWorkspace(host: string, auth: AuthSettings): Promise<TrackingCheck> {
  const { http } = connectTo(host, auth, { timeoutMs: CHECK_TIMEOUT_MS });
  try {
    return { http, experiments: await searchExperiments(http, LISTED_EXPERIMENTS) };
  } catch (error) {
    throw withHint(error, 'Check the workspace URL (https://<workspace>.cloud.databricks.com) and that this machine can reach it.');
  }
}

/**
 * An OTLP/HTTP collector is listening: an empty protobuf body is a valid (empty) export request,
 * and any HTTP answer, even a refusal, proves something is there.
 */
export async function checkCollector(endpoint: string): Promise<number> {
  const { http } = connectTo(endpoint, { kind: 'none' }, { timeoutMs: CHECK_TIMEOUT_MS });
  try {
    const answer = await http.request({
      method: 'POST',
      path: endpoint,
      body: new Uint8Array(),
      headers: { 'Content-Type': 'application/x-protobuf' },
      raw: true,
    });
    if (isRedirect(answer.status)) {
      throw new ExpectedError(
        `POST ${pathForDisplay(endpoint)} was ${describeRedirect(answer.status, answer.location, answer.redirectCause, 'a collector')}`,
        {
          exitCode: ExitCode.unreachable,
          hint: "give the collector's own OTLP/HTTP endpoint (usually port 4318, path /v1/traces): exports do not follow redirects",
        },
      );
    }
    return answer.status;
  } catch (error) {
    throw withHint(error, 'Start the collector, or fix the endpoint: OTLP/HTTP usually listens on port 4318 at /v1/traces.');
  }
}

/**
 * The network failure's own hint speaks of a tracking URI; say what to check for this answer instead,
 * and name the whole URL that was tried: the person just gave its base, not the path added to it.
 */
export function withHint(error: unknown, hint: string): unknown {
  return error instanceof UnreachableError ? new ExpectedError(error.withUrl, { exitCode: error.exitCode, hint, cause: error }) : error;
}
