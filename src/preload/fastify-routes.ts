import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { tellRoute } from './http-server-spans.ts';

/**
 * What Fastify 5 publishes as a route's handler starts: its own request (whose `raw` is node's) and,
 * from 5.3 on, the route; `routeOptions.url` carries the template in every 5.x. A 404 publishes
 * nothing.
 */
interface HandlerStart {
  request?: { raw?: IncomingMessage; routeOptions?: { url?: unknown } };
  route?: { url?: unknown };
}

/**
 * Fastify leaves no route on node's request, so each request's span is named by the template Fastify
 * publishes, whichever copy of Fastify the program loads, without loading it.
 */
export function nameFastifyRoutes(): void {
  subscribe('tracing:fastify.request.handler:start', (message) => {
    const { request, route } = message as HandlerStart;
    const template = route?.url ?? request?.routeOptions?.url;
    if (request?.raw && typeof template === 'string') tellRoute(request.raw, template);
  });
}
