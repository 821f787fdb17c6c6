import { createRoute } from '@hono/zod-openapi';
import { HealthResponse, type HealthInfo } from '../../api-schemas.ts';
import type { ServerApp } from '../server-env.ts';
import { jsonResponse } from './route-parts.ts';

const route = createRoute({
  method: 'get',
  path: '/',
  summary: 'Health: version, where traces go, which LLM answers, uptime (not traced, no token needed)',
  security: [],
  responses: { 200: jsonResponse(HealthResponse, 'The server is up') },
});

export function registerHealth(app: ServerApp, info: () => HealthInfo): void {
  app.openapi(route, (c) => c.json(HealthResponse.parse(info()), 200));
}
