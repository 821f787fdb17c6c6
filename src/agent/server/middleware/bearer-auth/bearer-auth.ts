import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../../api-error.ts';

export interface BearerAuthOptions {
  token: string;
  /** Requests that need no token, e.g. the health check and the API docs. */
  isPublic: (method: string, path: string) => boolean;
}

const BEARER = /^Bearer +(\S+) *$/i;

/** Compares digests, which have the same length whatever the client sends, so timing tells nothing. */
export const bearerAuth = ({ token, isPublic }: BearerAuthOptions) => {
  const expected = digest(token);
  return createMiddleware(async (c, next) => {
    if (!isPublic(c.req.method, c.req.path)) {
      const presented = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
      if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
        c.header('www-authenticate', 'Bearer');
        throw new ApiError(401, 'unauthorized', 'this server needs the header Authorization: Bearer <token>, with the token it was started with (--auth-token)');
      }
    }
    await next();
  });
};

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
