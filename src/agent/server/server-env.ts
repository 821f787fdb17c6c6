import type { OpenAPIHono } from '@hono/zod-openapi';
import type { HttpBindings } from '@hono/node-server';
import type { RequestSpanVariables } from './middleware/request-span/index.ts';

/**
 * Bindings are partial: under @hono/node-server they hold the socket, but `app.request()` in tests
 * passes none, so whatever reads them must cope with their absence.
 */
export type ServerEnv = { Bindings: Partial<HttpBindings>; Variables: RequestSpanVariables };
export type ServerApp = OpenAPIHono<ServerEnv>;
