import type { MiddlewareHandler } from 'hono';
import { errorBody } from '../api-error.ts';

export interface LoadSheddingOptions {
  /** Why new work cannot be taken now (the trace store cannot write, or is far behind); undefined while it can. */
  refusing: () => string | undefined;
  /** Requests that make no trace (the health check, the docs) are always answered. */
  isExempt: (method: string, path: string) => boolean;
  retryAfterSeconds?: number;
}

/** Long enough for a disk to be freed or a backlog written, short enough that clients come back soon. */
const RETRY_AFTER_S = 5;

/**
 * Turns work away while its trace could not be kept: a 503 with Retry-After the client can act on,
 * instead of an answer whose trace is lost without a word.
 */
export function loadShedding(options: LoadSheddingOptions): MiddlewareHandler {
  const retryAfter = String(options.retryAfterSeconds ?? RETRY_AFTER_S);
  return async (c, next) => {
    const why = options.isExempt(c.req.method, c.req.path) ? undefined : options.refusing();
    if (why === undefined) return next();
    return c.json(
      errorBody('unavailable', `not taking requests now, as their traces could not be kept: ${why}; retry in ${retryAfter} s`),
      503,
      {
        'retry-after': retryAfter,
      },
    );
  };
}
