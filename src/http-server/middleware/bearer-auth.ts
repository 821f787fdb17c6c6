import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { bearerTokenMatches } from '../bearer-token.ts';

export interface BearerAuthOptions {
  token: string;
  /** Requests that need no token, e.g. the health check and the API docs; none by default. */
  isPublic?: (method: string, path: string) => boolean;
  /** The 401's message, in the words of the app's clients; the app's onError renders it. */
  message: string;
}

/** Refuses a request without `Authorization: Bearer <token>`: a 401 with `WWW-Authenticate: Bearer`. */
export const bearerAuth = ({ token, isPublic, message }: BearerAuthOptions) =>
  createMiddleware(async (c, next) => {
    if (!isPublic?.(c.req.method, c.req.path) && !bearerTokenMatches(c.req.header('authorization'), token)) {
      c.header('www-authenticate', 'Bearer');
      throw new HTTPException(401, { message });
    }
    await next();
  });
