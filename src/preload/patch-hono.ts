import { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import { tellRoute } from './http-server-spans.ts';

/** What Hono's request tells of the routes that matched it (middleware's too), and which of their handlers runs or ran last. */
interface HonoRequest {
  routeIndex?: unknown;
  matchedRoutes?: { method?: unknown; path?: unknown }[];
}

/** A context of Hono's: on @hono/node-server, its env holds node's request. */
interface NodeServerContext {
  env?: { incoming?: IncomingMessage };
}

/**
 * Hono keeps the route on its own context (`c.req`), which nothing reaches from node's request, and
 * knows which route answered only once its handlers ran. The context tells where to read it, the
 * first time `c.req` is asked for: as a chain of handlers starts (Hono's compose asks), or as the only
 * handler reads the request (its body, a parameter); a handler that reads neither leaves its request
 * named by path.
 */
export function patch(): void {
  const descriptor = Object.getOwnPropertyDescriptor(Context.prototype, 'req');
  const get = descriptor?.get;
  if (!descriptor || !get) return;
  const told = new WeakSet<object>();
  Object.defineProperty(Context.prototype, 'req', {
    ...descriptor,
    get(this: NodeServerContext) {
      const request = get.call(this) as HonoRequest;
      const incoming = this.env?.incoming;
      if (incoming && !told.has(this)) {
        told.add(this);
        tellRoute(incoming, () => answeringRoute(request));
      }
      return request;
    },
  });
}

/**
 * The template of the route whose handler ran last, as Hono's own `c.req.routePath` gives it; none
 * when that was middleware registered for every path (`app.use('*', …)`, `/api/*`) and no route
 * answered (Hono's 404), or a middleware of such a path answered itself.
 */
function answeringRoute(request: HonoRequest): string | undefined {
  const route = request.matchedRoutes?.[Number(request.routeIndex)];
  if (typeof route?.path !== 'string') return undefined;
  return route.method === 'ALL' && route.path.includes('*') ? undefined : route.path;
}
