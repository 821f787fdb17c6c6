import { ExitCode, ExpectedError } from '../errors.ts';
import { describeRedirectOf, isMlflowServerHeader, parseErrorBody } from '../http-client/error-body.ts';
import { maskSentCredential, pathForDisplay } from '../http-client/redaction.ts';
import { isRedirect, redirectAdvice, type RedirectCause } from '../http-client/redirect.ts';
import type { RawResponse } from '../http-client/send.ts';
import { commandLine } from '../invocation.ts';

export interface MlflowApiErrorInit {
  method: string;
  /** Path without the query (a signed URL's query is a credential). */
  path: string;
  status: number;
  errorCode?: string | undefined;
  detail: string;
  /** The `Server` header of the answer. */
  server?: string | undefined;
  /** The body has a shape MLflow produces (see ErrorBody.recognised). */
  recognised: boolean;
  /** AuthProvider.describe() of what was sent, so auth hints can name it. */
  credentials?: string | undefined;
  /** A 3xx's target as RawResponse.location shows it (the redirect was not followed). */
  location?: string | undefined;
  redirectCause?: RedirectCause | undefined;
}

/** A tracking server (or something in front of it) answered with a failure. */
export class MlflowApiError extends ExpectedError {
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly detail: string;
  readonly server: string | undefined;
  /** The answer came from a proxy in front of MLflow, not from MLflow itself. */
  readonly fromProxy: boolean;
  readonly method: string;
  readonly path: string;
  /** A 3xx only: where it pointed (origin and path). */
  readonly location: string | undefined;
  readonly redirectCause: RedirectCause | undefined;

  constructor(init: MlflowApiErrorInit) {
    const fromProxy = !init.recognised && !isMlflowServerHeader(init.server);
    const { exitCode, hint } = classify(init, fromProxy);
    super(messageFor(init, fromProxy), { exitCode, hint });
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.detail = init.detail;
    this.server = init.server;
    this.fromProxy = fromProxy;
    this.method = init.method;
    this.path = init.path;
    this.location = init.location;
    this.redirectCause = init.redirectCause;
  }

  /** From a failed answer of `http.request({ raw: true })`. */
  static fromResponse(method: string, path: string, response: RawResponse, credentials?: string): MlflowApiError {
    const redirect = isRedirect(response.status);
    const body = redirect ? { detail: describeRedirectOf(response), recognised: false } : parseErrorBody(response.status, response.text);
    return new MlflowApiError({
      method,
      path: pathForDisplay(path),
      status: response.status,
      errorCode: body.errorCode,
      detail: maskSentCredential(body.detail, response),
      server: response.headers.get('server') ?? undefined,
      recognised: body.recognised,
      credentials,
      ...(redirect && { location: response.location, redirectCause: response.redirectCause }),
    });
  }
}

/** A success that is not MLflow's answer to the request: an empty body or some other service's JSON. */
export function notAnswered(method: string, path: string, what: string): MlflowApiError {
  return new MlflowApiError({ method, path, status: 200, detail: `an answer without ${what}`, recognised: false });
}

function messageFor(init: MlflowApiErrorInit, fromProxy: boolean): string {
  const request = `${init.method} ${init.path}`;
  if (isRedirect(init.status)) return `${request} was ${init.detail}`;
  if (init.status < 300) return `${request} answered ${init.status} with ${init.detail} instead of MLflow's JSON`;
  const code = init.errorCode ? ` ${init.errorCode}` : '';
  if (isAuthStatus(init.status) && fromProxy) {
    const who = init.server ? `a proxy (${init.server})` : 'something in front of MLflow (no Server header)';
    return `${request} was rejected by ${who}, not by MLflow: HTTP ${init.status}${code}: ${init.detail}`;
  }
  return `${request} failed: HTTP ${init.status}${code}: ${init.detail}`;
}

function classify(init: MlflowApiErrorInit, fromProxy: boolean): { exitCode: ExitCode; hint: string } {
  const { status, errorCode, path, detail } = init;
  if (isRedirect(status)) return redirectAdvice(init.redirectCause ?? 'elsewhere', init.location, path);
  if (isAuthStatus(status)) return { exitCode: ExitCode.auth, hint: authHint(init, fromProxy) };
  if (isMissingExperiment(init)) {
    return {
      exitCode: ExitCode.experiment,
      hint: `Check the experiment id or name (experiment ids are numeric; names on Databricks are workspace paths such as /Users/<you>/<name>); \`${commandLine('doctor')}\` can create it.`,
    };
  }
  if (errorCode === 'RESOURCE_ALREADY_EXISTS' && path.includes('/experiments/')) {
    return {
      exitCode: ExitCode.experiment,
      hint: 'An experiment with this name exists, possibly deleted: use it, restore it, or pick another name.',
    };
  }
  if (/\/v1\/traces$/.test(path) && (status === 404 || status === 501)) {
    return {
      exitCode: ExitCode.otlpUnavailable,
      hint: 'This server does not take OTLP at /v1/traces (a file-store backend, a gunicorn/waitress server, or MLflow older than 3.4); use the REST export path (--export-path rest).',
    };
  }
  if (status < 300 || (status === 404 && !errorCode)) {
    return {
      exitCode: ExitCode.unreachable,
      hint: "Check the tracking URI: it must be the MLflow server's base URL (no /api or /#/ suffix). A login page means a proxy in front of MLflow wants you to sign in.",
    };
  }
  // FastAPI's request validation (rendered by parseErrorBody): our request was malformed.
  if (status === 422 && /^(header|body|query|path|cookie) \S+: /.test(detail)) {
    return {
      exitCode: ExitCode.internal,
      hint: 'otel-mlflow sent a request this server rejects as malformed; please report it with the message above.',
    };
  }
  if (status === 429 || status === 503) {
    return { exitCode: ExitCode.export, hint: 'The server is overloaded or rate-limiting; retry later or send less at once.' };
  }
  if (status >= 500) {
    return {
      exitCode: ExitCode.export,
      hint: fromProxy
        ? `The proxy in front of MLflow${init.server ? ` (${init.server})` : ''} could not get an answer from it: check that the MLflow server is running.`
        : 'The server failed; its log has the details.',
    };
  }
  return { exitCode: ExitCode.export, hint: 'The server refused the request; the reason above says why.' };
}

function isMissingExperiment({ status, errorCode, path, detail }: MlflowApiErrorInit): boolean {
  if (status !== 404 && status !== 422) return false;
  if (/no experiment with id|could not find experiment|experiment .*(does not exist|not found)/i.test(detail)) return true;
  return errorCode === 'RESOURCE_DOES_NOT_EXIST' && path.includes('/experiments/');
}

function authHint(init: MlflowApiErrorInit, fromProxy: boolean): string {
  if (init.credentials === undefined) {
    return fromProxy
      ? 'A proxy in front of MLflow refused the request: check what credentials it expects, or point the tracking URI past it.'
      : 'Check the credentials: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN (on Databricks: DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET).';
  }
  const sent = init.credentials === 'none' ? 'no credentials were sent' : `sent: ${init.credentials}`;
  if (fromProxy) {
    return `The proxy wants credentials of its own (${sent}): check what it expects, or point the tracking URI past it.`;
  }
  if (init.credentials === 'none') {
    return 'The server needs credentials and none were sent: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN (on Databricks: DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET).';
  }
  if (init.status === 401) return `The server did not accept the credentials (${sent}); check them.`;
  return `The credentials (${sent}) lack permission for this request; ask for access to the experiment. Databricks also answers 403 for an invalid or expired token.`;
}

function isAuthStatus(status: number): boolean {
  return status === 401 || status === 403;
}

/**
 * MLflow's JSON 404 for a missing resource means "no such thing"; an HTML 404 means a wrong
 * route or server, which stays an error.
 */
export async function undefinedIfMissing<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (
      error instanceof MlflowApiError &&
      error.status === 404 &&
      (error.errorCode === 'RESOURCE_DOES_NOT_EXIST' || error.errorCode === 'NOT_FOUND')
    ) {
      return undefined;
    }
    throw error;
  }
}
