import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { tellRoute } from './http-server-spans.ts';

/** Fastify's own request: `raw` is node's; `routeOptions.url` carries the matched route's template (4.x and 5.x). */
interface FastifyRequest {
  raw?: IncomingMessage;
  routeOptions?: { url?: unknown };
  /** Before `routeOptions` (Fastify 4 before 4.10). */
  routerPath?: unknown;
}

/** What Fastify 5 publishes as a route's handler starts: its request and, from 5.3 on, the route. A 404 publishes nothing. */
interface HandlerStart {
  request?: FastifyRequest;
  route?: { url?: unknown };
}

/** What every Fastify 4 and 5 publishes as an instance is made (`fastify.initialization`). */
interface Initialization {
  fastify?: {
    version?: unknown;
    addHook?(name: 'onRequest', hook: (request: FastifyRequest, reply: unknown, done: () => void) => void): unknown;
  };
}

/**
 * Fastify leaves no route on node's request, so each request's span is named by the template Fastify
 * tells, whichever copy of Fastify the program loads, without loading it: Fastify 5 publishes it as
 * a route's handler starts; Fastify 4 publishes no route, but publishes each instance it makes, which
 * is given a hook that tells the route of each request it takes.
 */
export function nameFastifyRoutes(): void {
  subscribe('tracing:fastify.request.handler:start', (message) => {
    const { request, route } = message as HandlerStart;
    tell(request, route?.url ?? request?.routeOptions?.url);
  });
  subscribe('fastify.initialization', (message) => {
    const { fastify } = message as Initialization;
    if (typeof fastify?.addHook !== 'function' || !/^4\./.test(String(fastify.version))) return;
    fastify.addHook('onRequest', (request, _reply, done) => {
      tell(request, request.routeOptions?.url ?? request.routerPath);
      done();
    });
  });
}

function tell(request: FastifyRequest | undefined, template: unknown): void {
  if (request?.raw && typeof template === 'string') tellRoute(request.raw, template);
}
