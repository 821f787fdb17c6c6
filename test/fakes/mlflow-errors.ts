import { jsonReply, textReply } from './exchange.ts';
import type { Reply } from './exchange.ts';
import { dumpJson } from './python-json.ts';
import type { JsonStyle } from './python-json.ts';

/** HTTP status of each MLflow error code (mlflow/server/handlers.py, mlflow-protocol.md §4). */
const ERROR_CODE_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  NOT_FOUND: 404,
  ABORTED: 409,
  RESOURCE_CONFLICT: 409,
  REQUEST_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
} as const;
type MlflowErrorCode = keyof typeof ERROR_CODE_STATUS;

// Observed on 3.12.1.dev0 / 3.14.1.dev0; codes never observed fall back to the SQLSTATE class of their status.
const ERROR_CLASSES: Partial<Record<MlflowErrorCode, [string, string]>> = {
  RESOURCE_DOES_NOT_EXIST: ['KAM00', 'RESOURCE_NOT_FOUND'],
  INVALID_PARAMETER_VALUE: ['KAM00', 'INVALID_PARAMETER_VALUE'],
  RESOURCE_ALREADY_EXISTS: ['KAM00', 'RESOURCE_ALREADY_EXISTS'],
  INTERNAL_ERROR: ['XXM00', 'CLIENT_INTERNAL_ERROR'],
};

export class MlflowError extends Error {
  readonly code: MlflowErrorCode;
  constructor(code: MlflowErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * An MLflow JSON error. `python` spacing is what Flask handlers send; the OTLP route (FastAPI)
 * sends `compact`.
 */
export function mlflowErrorReply(error: MlflowError, withClasses: boolean, style: JsonStyle = 'python'): Reply {
  const status = ERROR_CODE_STATUS[error.code];
  const body: Record<string, string> = { error_code: error.code, message: error.message };
  if (withClasses) {
    const [sqlstate, errorClass] = ERROR_CLASSES[error.code] ?? [status >= 500 ? 'XXM00' : 'KAM00', error.code];
    body.sqlstate = sqlstate;
    body.error_class = errorClass;
  }
  return jsonReply(status, dumpJson(body, style));
}

function flaskPage(status: number, title: string, text: string): Reply {
  return textReply(
    status,
    `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n<p>${text}</p>\n`,
    'text/html; charset=utf-8',
  );
}

/** Flask's page for any path no route matches. */
export function flaskNotFound(): Reply {
  return flaskPage(
    404,
    'Not Found',
    'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  );
}

export function flaskMethodNotAllowed(): Reply {
  return flaskPage(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.');
}

/** Flask's page for an exception no handler caught (e.g. a file store refusing a re-sent trace). */
export function flaskInternalError(): Reply {
  return flaskPage(
    500,
    'Internal Server Error',
    'The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.',
  );
}
