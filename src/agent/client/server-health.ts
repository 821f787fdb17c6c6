import { ExitCode, ExpectedError } from '../../errors.ts';
import { isRedirect } from '../../http-client/redirect.ts';
import type { HealthInfo } from '../api-schemas.ts';
import { AnswerTooLargeError } from '../../util/bounded-body.ts';
import { serverRoute } from './endpoints.ts';
import { describeFetchFailure, describeServerRedirect, readServerJson } from './server-answer.ts';

/** `GET /` answers at once on a healthy server; anything slower is not one to run questions against. */
const HEALTH_TIMEOUT_MS = 5_000;
/** The health JSON is a few KB; a megabyte is already something else answering. */
const HEALTH_MAX_BYTES = 1024 * 1024;

/**
 * The server's health JSON (`GET /`, public even with a token): proof it is an otel-mlflow server,
 * and where it sends its traces. Not up, or not ours → ExpectedError(unreachable) with `hint`.
 */
export async function fetchServerHealth(server: URL, hint: string): Promise<HealthInfo> {
  const url = serverRoute(server, '/');
  let response: Response;
  let body: unknown;
  try {
    response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    body = await readServerJson(url, 'GET', response, HEALTH_MAX_BYTES);
  } catch (error) {
    if (error instanceof AnswerTooLargeError) throw new ExpectedError(error.message, { exitCode: error.exitCode, hint, cause: error });
    throw new ExpectedError(`the server at ${url.origin} is not up: ${describeFetchFailure(error, url, HEALTH_TIMEOUT_MS)}`, {
      exitCode: ExitCode.unreachable,
      hint,
      cause: error,
    });
  }
  if (isRedirect(response.status)) {
    throw new ExpectedError(`GET ${url.href} was ${describeServerRedirect(url, response)}`, { exitCode: ExitCode.unreachable, hint });
  }
  if (!response.ok || !isHealth(body)) {
    throw new ExpectedError(`${url.origin} answered GET / with ${response.status}, not the health JSON of otel-mlflow serve`, {
      exitCode: ExitCode.unreachable,
      hint,
    });
  }
  return body;
}

function isHealth(body: unknown): body is HealthInfo {
  if (typeof body !== 'object' || body === null) return false;
  const { status, tracing } = body as { status?: unknown; tracing?: { destination?: unknown } };
  return status === 'ok' && typeof tracing?.destination === 'string';
}
