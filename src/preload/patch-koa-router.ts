import Router from '@koa/router';
import type { IncomingMessage } from 'node:http';
import { tellRoute } from './http-server-spans.ts';

/** A Koa context as the router leaves it: `req` is node's; `matched`, the router's layers whose path matched the request's. */
interface RoutedContext {
  req?: IncomingMessage;
  method?: string;
  matched?: { path?: unknown; methods?: unknown }[];
}

type Dispatch = ((context: RoutedContext, next: () => Promise<unknown>) => unknown) & { router?: unknown };

/**
 * Koa keeps the route on its own context, which nothing reaches from node's request: the router's
 * middleware tells it, as the router chooses it (the last route for the request's method among the
 * layers whose path matched, prefixes of nested routers included), before the route's handlers
 * run. Not `_matchedRoute`: the router sets it again as each layer runs, a router's own middleware
 * too. A request it matched no route to is left named by its path. `routes()` is `middleware()` under
 * another name in some releases and calls it in others: both are wrapped.
 */
export function patch(): void {
  const proto = Router.prototype as unknown as Record<'middleware' | 'routes', (this: unknown) => Dispatch>;
  for (const name of ['middleware', 'routes'] as const) {
    const make = proto[name];
    proto[name] = function (this: unknown) {
      const dispatch = make.call(this);
      const telling: Dispatch = (context, next) => {
        const result = dispatch(context, next);
        const route = context.matched?.findLast((layer) => Array.isArray(layer.methods) && layer.methods.includes(context.method))?.path;
        if (context.req && typeof route === 'string') tellRoute(context.req, route);
        return result;
      };
      // A router mounted in another (`router.use('/api', nested.routes())`) is known by this: its routes are taken over, prefixed.
      telling.router = dispatch.router;
      return telling;
    };
  }
}
