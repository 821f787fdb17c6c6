import type { AuthSettings } from '../config/types.ts';
import { ConfigError, ExitCode, ExpectedError } from '../errors.ts';
import { parseErrorBody } from '../http-client/error-body.ts';
import { maskSentCredential } from '../http-client/redaction.ts';
import { describeRedirect, isRedirect } from '../http-client/redirect.ts';
import { sendRequest } from '../http-client/send.ts';

export interface AuthProvider {
  readonly kind: AuthSettings['kind'];
  /** Headers for the next request; fetches/refreshes OAuth tokens as needed. Never logs the secret. */
  headers(): Promise<Record<string, string>>;
  /** Called after a 401/403 so the next headers() call fetches a fresh OAuth token (no-op for static creds). */
  invalidate(): void;
  /** e.g. 'Databricks OAuth M2M (client id abc…)', 'Basic (user alice)', 'none' — no secrets. */
  describe(): string;
}

export interface AuthProviderOptions {
  /** The Databricks workspace URL; needed for OAuth M2M. */
  host?: string;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; injected by tests to move the clock. */
  now?: () => number;
}

/** Databricks tokens live an hour; refresh this long before expiry (or 10% of a shorter life). */
const REFRESH_MARGIN_MS = 5 * 60_000;
const TOKEN_TIMEOUT_MS = 30_000;
/** A token answer is a few hundred bytes; anything near this is not the token endpoint talking. */
const TOKEN_MAX_RESPONSE_BYTES = 1024 * 1024;
/** What Databricks issues when an answer leaves `expires_in` out. */
const DEFAULT_TOKEN_LIFETIME_S = 3600;

export function createAuthProvider(settings: AuthSettings, options: AuthProviderOptions = {}): AuthProvider {
  switch (settings.kind) {
    case 'none':
      return staticProvider('none', {}, 'none');
    case 'basic': {
      const user = settings.username.value;
      const credentials = Buffer.from(`${user}:${settings.password.value}`, 'utf8').toString('base64');
      return staticProvider('basic', { Authorization: `Basic ${credentials}` }, `Basic (user ${user})`);
    }
    case 'bearer':
      return staticProvider('bearer', { Authorization: `Bearer ${settings.token.value}` }, 'Bearer token');
    case 'databricks-pat':
      return staticProvider('databricks-pat', { Authorization: `Bearer ${settings.token.value}` }, 'Databricks personal access token');
    case 'databricks-oauth-m2m':
      return oauthM2mProvider(settings.clientId.value, settings.clientSecret.value, options);
  }
}

/**
 * Sends, and after a 401/403 sends once more with a fresh OAuth token (Databricks answers 403 for
 * an expired token on many APIs). Only a refreshable credential can turn out differently on a
 * second try; retrying static ones would double failed logins (and trip lockouts).
 */
export async function sendWithFreshTokenOnRefusal<T>(
  auth: AuthProvider,
  send: () => Promise<T>,
  statusOf: (answer: T) => number,
  discard: (answer: T) => Promise<void> | undefined = () => undefined,
): Promise<T> {
  const answer = await send();
  const status = statusOf(answer);
  if ((status !== 401 && status !== 403) || auth.kind !== 'databricks-oauth-m2m') return answer;
  auth.invalidate();
  await discard(answer);
  return send();
}

function staticProvider(kind: AuthSettings['kind'], headers: Record<string, string>, description: string): AuthProvider {
  return {
    kind,
    headers: async () => ({ ...headers }),
    invalidate: () => {},
    describe: () => description,
  };
}

interface CachedToken {
  authorization: string;
  refreshAt: number;
}

function oauthM2mProvider(clientId: string, clientSecret: string, options: AuthProviderOptions): AuthProvider {
  if (!options.host) {
    throw new ConfigError([{ message: 'Databricks OAuth M2M needs the workspace host (DATABRICKS_HOST)' }]);
  }
  const host = /^https?:\/\//i.test(options.host) ? options.host.replace(/\/+$/, '') : `https://${options.host.replace(/\/+$/, '')}`;
  const now = options.now ?? Date.now;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const tokenUrl = new URL(`${host}/oidc/v1/token`);
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;

  async function fetchToken(): Promise<CachedToken> {
    const requestedAt = now();
    const answer = await sendRequest(fetchImpl, {
      method: 'POST',
      url: tokenUrl,
      shownPath: tokenUrl.pathname,
      timeoutMs: TOKEN_TIMEOUT_MS,
      headers: {
        'User-Agent': 'otel-mlflow',
        Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: 'grant_type=client_credentials&scope=all-apis',
      maxResponseBytes: TOKEN_MAX_RESPONSE_BYTES,
      expected: { service: 'the Databricks OAuth token endpoint', hint: 'check DATABRICKS_HOST: it must be the workspace URL' },
    });
    const fail = (errorCode: string | undefined, detail: string) =>
      new OAuthTokenError({ clientId, host, status: answer.status, errorCode, detail: maskSentCredential(detail, answer) });
    // Not followed: a redirected POST becomes a GET, and a sign-in page is no token.
    if (isRedirect(answer.status))
      throw fail(undefined, describeRedirect(answer.status, answer.location, answer.redirectCause, 'Databricks'));
    if (answer.status < 200 || answer.status >= 300) {
      const body = parseErrorBody(answer.status, answer.text);
      throw fail(body.errorCode, body.detail);
    }
    const token = readToken(answer.json);
    if (!token) throw fail(undefined, 'the answer has no access_token');
    const lifetimeMs = token.expiresInS * 1000;
    return {
      authorization: `Bearer ${token.accessToken}`,
      // Counted from when we asked, so a slow answer cannot stretch the token past its real expiry.
      refreshAt: requestedAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 10),
    };
  }

  return {
    kind: 'databricks-oauth-m2m',
    async headers() {
      if (cached && now() < cached.refreshAt) return { Authorization: cached.authorization };
      // Concurrent callers share one token request.
      inFlight ??= fetchToken()
        .then((token) => (cached = token))
        .finally(() => {
          inFlight = undefined;
        });
      return { Authorization: (await inFlight).authorization };
    },
    invalidate() {
      cached = undefined;
    },
    describe: () => `Databricks OAuth M2M (client id ${clientId})`,
  };
}

function readToken(body: unknown): { accessToken: string; expiresInS: number } | undefined {
  const { access_token: accessToken, expires_in: expiresIn } = (body ?? {}) as { access_token?: unknown; expires_in?: unknown };
  if (typeof accessToken !== 'string' || accessToken === '') return undefined;
  const seconds = Number(expiresIn);
  return { accessToken, expiresInS: seconds > 0 ? seconds : DEFAULT_TOKEN_LIFETIME_S };
}

/** The Databricks OAuth token endpoint refused the client credentials. */
export class OAuthTokenError extends ExpectedError {
  readonly clientId: string;
  readonly status: number;

  constructor(init: { clientId: string; host: string; status: number; errorCode?: string | undefined; detail: string }) {
    const code = init.errorCode && init.errorCode !== init.detail ? `${init.errorCode}: ` : '';
    super(`Databricks OAuth token request for client id ${init.clientId} failed: HTTP ${init.status}: ${code}${init.detail}`, {
      exitCode: ExitCode.auth,
      hint: `Check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (an OAuth secret of a service principal of ${init.host}) and DATABRICKS_HOST.`,
    });
    this.clientId = init.clientId;
    this.status = init.status;
  }
}
