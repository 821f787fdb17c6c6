import { VERSION } from '../../../version.ts';
import { MAX_QUERY_CHARS } from '../../request-limits.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../middleware/json-body.ts';
import type { ServerApp } from '../server-env.ts';

export const OPENAPI_PATH = '/openapi.json';
const BEARER_SCHEME = 'bearerAuth';

/**
 * The document comes from the same schemas that validate the requests. With a token, every
 * operation needs it (Swagger's Authorize button then sends it) except those that opt out.
 */
export function registerOpenApiDocument(app: ServerApp, options: { bearer: boolean }): void {
  if (options.bearer) {
    app.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, {
      type: 'http',
      scheme: 'bearer',
      description: 'The token the server was started with (--auth-token)',
    });
  }
  app.doc(OPENAPI_PATH, {
    openapi: '3.0.3',
    info: {
      title: 'otel-mlflow serve',
      version: VERSION,
      description:
        'A traced LLM agent: every POST request is one trace in MLflow, and its id comes back in `trace_id` and the `x-trace-id` header. ' +
        `Limits: a JSON body of at most ${DEFAULT_MAX_BODY_BYTES / 1024} KiB (larger: 413), a query or task of at most ${MAX_QUERY_CHARS} characters, ` +
        'and no fields beyond those listed (422 names any other).',
    },
    ...(options.bearer && { security: [{ [BEARER_SCHEME]: [] }] }),
  });
}
