import type { MiddlewareHandler } from 'hono';
import { errorBody } from '../api-error.ts';

export interface ShutdownGuardOptions {
  /** Aborted when the server's grace period for in-flight requests ends. */
  signal: AbortSignal;
}

/**
 * A request still running when the grace period ends gets a 503 the client can retry, instead of a
 * dropped connection; its spans are ended (as interrupted) by the tracing shutdown that follows, so
 * its trace is kept.
 */
export function shutdownGuard({ signal }: ShutdownGuardOptions): MiddlewareHandler {
  return async (c, next) => {
    let stop: (() => void) | undefined;
    const stopped = new Promise<'stopped'>((resolve) => {
      stop = () => resolve('stopped');
      signal.addEventListener('abort', stop, { once: true });
    });
    const outcome = await Promise.race([next().then(() => 'answered' as const), stopped]);
    signal.removeEventListener('abort', stop!);
    if (outcome === 'stopped') {
      c.res = c.json(errorBody('shutting_down', 'the server is shutting down and could not finish this request; try again'), 503, {
        'retry-after': '5',
      });
    }
  };
}
