import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode, UnofficialStatusCode } from 'hono/utils/http-status';
import { AnswerAborted, LlmError } from '../types.ts';
import { maskSecrets } from '../../config/configured-secrets.ts';
import { ApiError, errorBody } from './api-error.ts';
import type { ErrorBody } from '../api-schemas.ts';
import { LLM_ERROR, LLM_UNREACHABLE } from './llm-error-codes.ts';

export interface ErrorAnswer {
  status: ContentfulStatusCode;
  body: ErrorBody;
}

const GENERIC_MESSAGE = 'internal server error; the server log has the details';
/** nginx's "client closed request": nobody reads it, but the access log and the span keep it. */
const CLIENT_CLOSED_REQUEST = 499 as UnofficialStatusCode;

/**
 * What a client sees for anything a request threw. Only our own errors speak for themselves; a bug's
 * message could carry anything, so the client gets a generic one and the log gets the stack.
 */
export function errorAnswer(error: unknown, where: string, log?: (line: string) => void): ErrorAnswer {
  if (error instanceof ApiError) return { status: error.status, body: error.body() };
  if (error instanceof LlmError) {
    // Else the log shows a bare 502: the cause is worth a line. A provider may echo the key it was sent.
    const message = maskSecrets(error.message);
    log?.(`${where}: ${message}`);
    return { status: 502, body: errorBody(error.unreachable ? LLM_UNREACHABLE : LLM_ERROR, message) };
  }
  if (error instanceof AnswerAborted) return { status: CLIENT_CLOSED_REQUEST, body: errorBody('client_closed_request', error.message) };
  if (error instanceof HTTPException && error.status < 500) {
    return { status: error.status, body: errorBody(codeForStatus(error.status), error.message) };
  }
  log?.(maskSecrets(`${where}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
  return { status: 500, body: errorBody('internal_error', GENERIC_MESSAGE) };
}

/** Refusals of Hono's and of the shared middleware (the bearer token, the body's size) get the same shape as ours. */
function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 415) return 'unsupported_media_type';
  if (status === 413) return 'body_too_large';
  return status === 400 ? 'bad_request' : `http_${status}`;
}
