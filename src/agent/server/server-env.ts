import type { OpenAPIHono } from '@hono/zod-openapi';
import type { HttpBindings } from '@hono/node-server';
import type { Tracer } from '@opentelemetry/api';
import type { AgentService } from '../types.ts';
import type { HealthInfo } from '../api-schemas.ts';
import type { RequestSpanVariables } from './middleware/request-span.ts';

/**
 * Bindings are partial: under @hono/node-server they hold the socket, but `app.request()` in tests
 * passes none, so whatever reads them must cope with their absence.
 */
export type ServerEnv = { Bindings: Partial<HttpBindings>; Variables: RequestSpanVariables };
export type ServerApp = OpenAPIHono<ServerEnv>;

/** What the app is made from: the agent, the tracer, and the server's settings. */
export interface AppDeps {
  agent: AgentService;
  /** Starts each request's root span; the agent's spans nest under it. */
  tracer: Tracer;
  /** For `GET /`. */
  info: () => HealthInfo;
  /** The MLflow UI link for a trace id (`tr-…`), when the experiment is known. */
  traceLink?: (traceId: string) => string | undefined;
  /** When set, every route but the health check and the API docs needs `Authorization: Bearer <token>`. */
  authToken?: string;
  /** One access-log line per request, and the stack of any unexpected error. */
  log?: (line: string) => void;
  /** Larger JSON bodies get 413; 64 KiB by default. */
  maxBodyBytes?: number;
  /** Aborted when shutdown's grace period ends: requests still running then get a 503. */
  shuttingDown?: AbortSignal;
  /** Browser origins allowed to call the API (`*` for any); without them, no CORS headers at all. */
  corsOrigins?: readonly string[];
  /** Why requests cannot be taken now (their traces could not be kept); undefined while they can. */
  refusing?: () => string | undefined;
}
