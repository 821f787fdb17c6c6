import type { ZodType } from 'zod';
import type { AppDeps } from '../server-env.ts';
import { ErrorResponse } from '../../api-schemas.ts';
import { DEFAULT_MAX_BODY_BYTES, jsonBody } from '../middleware/json-body.ts';
import { requestSpan, type RequestSpan } from '../middleware/request-span.ts';
import type { SpanType } from '../../../tracing/mlflow-attributes.ts';

export function jsonRequest<T extends ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

export function jsonResponse<T extends ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

const errorResponse = (description: string) => jsonResponse(ErrorResponse, description);

/** What every traced POST route may answer besides its 200. */
export const ERROR_RESPONSES = {
  400: errorResponse('The body is not valid JSON (`invalid_json`), or does not inflate as its Content-Encoding says (`bad_request`)'),
  401: errorResponse('Missing or wrong bearer token, when the server was started with --auth-token'),
  413: errorResponse(`The body is larger than ${DEFAULT_MAX_BODY_BYTES / 1024} KiB, as sent or once inflated (\`body_too_large\`)`),
  415: errorResponse(
    'The body is not sent as application/json, or is compressed otherwise than with gzip or deflate (`unsupported_media_type`)',
  ),
  422: errorResponse('The body breaks the schema, or has a field the route does not know (`invalid_request`); `fields` names each field'),
  500: errorResponse('A bug in the server; the server log has the details'),
  502: errorResponse('The LLM provider failed (`llm_error`), or cannot be reached at all (`llm_unreachable`)'),
};

/** A traced JSON route: the request span first, so even a refused body leaves a trace saying why. */
export function tracedJsonRoute(deps: AppDeps, spanType: SpanType) {
  return [requestSpan({ tracer: deps.tracer, spanType }), jsonBody(deps.maxBodyBytes === undefined ? {} : { maxBytes: deps.maxBodyBytes })];
}

/** Both always present, as suite's and ask's JSON carry `traceUrl: null` when there is no link; null when nothing was recorded. */
export function traceFields(request: RequestSpan, traceLink: AppDeps['traceLink']): { trace_id: string | null; trace_url: string | null } {
  const traceId = request.traceId;
  return { trace_id: traceId ?? null, trace_url: (traceId && traceLink?.(traceId)) ?? null };
}
