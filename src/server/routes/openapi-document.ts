import { VERSION } from '../../version.ts';
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
      description: 'A traced LLM agent: every POST request is one trace in MLflow, and its id comes back in `trace_id` and the `x-trace-id` header.',
    },
    ...(options.bearer && { security: [{ [BEARER_SCHEME]: [] }] }),
  });
}
