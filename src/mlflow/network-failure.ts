import { UnreachableError, type UnreachableKind } from './errors.ts';

export interface RequestTarget {
  method: string;
  url: URL;
  /** What error messages show for the request: never the query, which may carry a signature. */
  shownPath: string;
  timeoutMs: number;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const TLS_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|HOSTNAME_MISMATCH|EPROTO$)/;

/**
 * Turns what fetch throws when no HTTP answer arrived into an UnreachableError saying which
 * failure it was; anything else (a bug, a caller's abort) is returned unchanged.
 */
export function toUnreachableError(error: unknown, target: RequestTarget): unknown {
  const kind = kindOf(error);
  if (!kind) return error;
  return new UnreachableError({
    kind: kind.kind,
    host: hostPort(target.url),
    method: target.method,
    path: target.shownPath,
    reason: kind.reason,
    timeoutMs: target.timeoutMs,
    cause: error,
  });
}

function kindOf(error: unknown): { kind: UnreachableKind; reason: string } | undefined {
  if (error instanceof Error && error.name === 'TimeoutError') return { kind: 'timeout', reason: 'timeout' };
  const code = findCode(error);
  if (code === undefined) {
    // undici's generic wrapper without a coded cause: still a transport failure.
    return error instanceof TypeError && error.message === 'fetch failed'
      ? { kind: 'network', reason: messageOf(error.cause) ?? 'fetch failed' }
      : undefined;
  }
  if (DNS_CODES.has(code)) return { kind: 'dns', reason: code };
  if (code === 'ECONNREFUSED') return { kind: 'refused', reason: code };
  if (TIMEOUT_CODES.has(code)) return { kind: 'timeout', reason: code };
  if (TLS_CODE.test(code)) return { kind: 'tls', reason: code };
  return { kind: 'network', reason: code };
}

/** The first string `code` in the cause chain, looking inside AggregateErrors (happy eyeballs). */
function findCode(error: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof error !== 'object' || error === null) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = findCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return findCode(cause, depth + 1);
}

function messageOf(error: unknown): string | undefined {
  return error instanceof Error ? error.message : undefined;
}

function hostPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}
