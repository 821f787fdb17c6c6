import { networkFailureOf } from '../util/network-failure.ts';
import { UnreachableError } from './errors.ts';

export interface RequestTarget {
  method: string;
  url: URL;
  /** What error messages show for the request: never the query, which may carry a signature. */
  shownPath: string;
  timeoutMs: number;
}

/**
 * Turns what fetch throws when no HTTP answer arrived into an UnreachableError saying which
 * failure it was; anything else (a bug, a caller's abort) is returned unchanged.
 */
export function toUnreachableError(error: unknown, target: RequestTarget): unknown {
  const failure = networkFailureOf(error);
  if (!failure) return error;
  return new UnreachableError({
    ...failure,
    url: target.url,
    method: target.method,
    path: target.shownPath,
    timeoutMs: target.timeoutMs,
    cause: error,
  });
}
