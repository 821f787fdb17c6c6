import { ExitCode, ExpectedError } from '../errors.ts';
import {
  describeNetworkFailure,
  hostPort,
  networkFailureOf,
  type NetworkFailure,
  type NetworkFailureKind,
} from '../util/network-failure.ts';
import { pathForDisplay } from './redaction.ts';

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

export type UnreachableKind = NetworkFailureKind;

export interface UnreachableErrorInit extends NetworkFailure {
  url: URL;
  method: string;
  path: string;
  timeoutMs: number;
  cause?: unknown;
}

/** The request never got an HTTP answer. */
export class UnreachableError extends ExpectedError {
  readonly kind: UnreachableKind;
  /** `hostname:port`. */
  readonly host: string;
  /** The failure and the request, with the whole URL (no query): for a check of an address the person just gave. */
  readonly withUrl: string;

  constructor(init: UnreachableErrorInit) {
    const what = describeNetworkFailure(init, init.url, init.timeoutMs);
    const failure = `${what[0]!.toUpperCase()}${what.slice(1)} for ${init.method}`;
    super(`${failure} ${init.path}`, {
      exitCode: ExitCode.unreachable,
      hint: unreachableHint(init),
      cause: init.cause,
    });
    this.kind = init.kind;
    this.host = hostPort(init.url);
    this.withUrl = `${failure} ${pathForDisplay(init.url.href)}`;
  }
}

function unreachableHint({ kind, reason }: NetworkFailure): string {
  switch (kind) {
    case 'dns':
      return 'Check the host name in the tracking URI for typos; for an internal name, check your VPN or DNS settings.';
    case 'refused':
      return 'Start the MLflow server, or fix the host and port in the tracking URI.';
    case 'tls':
      return /WRONG_VERSION_NUMBER|EPROTO/.test(reason)
        ? 'The server does not speak TLS on this port: use http:// in the tracking URI, or the port that serves https.'
        : "For a private or self-signed CA, point NODE_EXTRA_CA_CERTS at its certificate; otherwise check the certificate's host name and expiry.";
    case 'timeout':
      return 'Check the host and port, that the server is up, and that no firewall drops the traffic.';
    case 'network':
      return 'Check that the server is up and reachable from this machine (HTTP proxy, firewall, VPN).';
  }
}
