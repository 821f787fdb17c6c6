/** How a request failed when no HTTP answer came. */
export type NetworkFailureKind = 'dns' | 'refused' | 'tls' | 'timeout' | 'network';

export interface NetworkFailure {
  kind: NetworkFailureKind;
  /** The system's error code or message, e.g. `ENOTFOUND`, `CERT_HAS_EXPIRED`. */
  reason: string;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** The peer hung up mid-request: a server stopping, a proxy dropping its upstream, an idle connection reaped. */
const CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TLS_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|HOSTNAME_MISMATCH|EPROTO$)/;

/**
 * Which transport failure a fetch error is, from the code undici hides in its cause chain; undefined
 * for anything else (a bug, a caller's abort), which must not pass for a network problem.
 */
export function networkFailureOf(error: unknown): NetworkFailure | undefined {
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

/** The failure in words, naming the host: `nothing is listening at 127.0.0.1:5000 (connection refused)`. */
export function describeNetworkFailure({ kind, reason }: NetworkFailure, url: URL, timeoutMs?: number): string {
  const host = hostPort(url);
  switch (kind) {
    case 'dns':
      return `cannot resolve ${url.hostname} (DNS lookup failed: ${reason})`;
    case 'refused':
      return `nothing is listening at ${host} (connection refused)`;
    case 'tls':
      return `TLS with ${host} failed (${reason})`;
    case 'timeout':
      return timeoutMs === undefined ? `no answer from ${host} in time (${reason})` : `no answer from ${host} within ${timeoutMs / 1000} s`;
    case 'network':
      return CLOSED_CODES.has(reason)
        ? `${host} closed the connection before answering (${reason})`
        : `network error talking to ${host} (${reason})`;
  }
}

/** `hostname:port`, the port filled in from the scheme when the URL has none. */
export function hostPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
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
