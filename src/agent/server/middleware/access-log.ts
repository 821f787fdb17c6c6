import { createMiddleware } from 'hono/factory';

export interface AccessLogOptions {
  log: (line: string) => void;
}

/**
 * One line per request: method, path (no query string, which may carry secrets), status, time to the
 * response headers (a stream goes on after), and the trace id. Never bodies or request headers.
 */
export const accessLog = ({ log }: AccessLogOptions) =>
  createMiddleware(async (c, next) => {
    const started = performance.now();
    await next();
    const elapsedMs = (performance.now() - started).toFixed(1);
    log(`${c.req.method} ${c.req.path} ${c.res.status} ${elapsedMs}ms ${c.res.headers.get('x-trace-id') ?? '-'}`);
  });
