import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Whether an `Authorization` value (a header, or gRPC metadata) carries `Bearer <token>`. Compares
 * digests, which have the same length whatever the client sends, so timing tells nothing about the token.
 */
export function bearerTokenMatches(authorization: string | undefined, token: string): boolean {
  const presented = BEARER.exec(authorization ?? '')?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
