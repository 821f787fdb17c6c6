import { createMiddleware } from 'hono/factory';
import { bodyLimit } from '../../../http-server/middleware/body-limit.ts';
import { ApiError } from '../api-error.ts';

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface JsonBodyOptions {
  maxBytes?: number;
}

/**
 * Refuses what is not a bounded JSON body, each with its own answer (415, 413, 400), before the
 * schema sees it. The body stays cached on the request, so the validator does not read it again.
 */
export const jsonBody = ({ maxBytes = DEFAULT_MAX_BODY_BYTES }: JsonBodyOptions = {}) => {
  const limit = bodyLimit({ maxBytes });
  return createMiddleware(async (c, next) => {
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      throw new ApiError(415, 'unsupported_media_type', 'send the body as JSON, with the header Content-Type: application/json');
    }
    await limit(c, async () => {
      try {
        await c.req.json();
      } catch (error) {
        throw new ApiError(400, 'invalid_json', `the request body is not valid JSON: ${(error as Error).message}`);
      }
      await next();
    });
  });
};
