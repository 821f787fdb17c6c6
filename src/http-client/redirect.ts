import { ExitCode } from '../errors.ts';

/**
 * What a redirect most likely means. MLflow itself never redirects an API call, so a 3xx always comes
 * from something in front of it or from a wrong address; it is never followed (a followed redirect
 * turned an SSO proxy's login page into "delivered").
 * - `login`: to a sign-in page (SSO, OAuth, a login proxy whose session expired);
 * - `https`: the same address over https;
 * - `elsewhere`: anywhere else (a moved server, a path the tracking URI should not have).
 */
export type RedirectCause = 'login' | 'https' | 'elsewhere';

export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** Path or host words of sign-in pages: `/login`, `/oauth2/start`, `sso.example.com`, `/realms/x/protocol/openid-connect/auth`. */
const SIGN_IN =
  /(^|[^a-z0-9])(log[-_]?in|log[-_]?on|sign[-_]?in|sso|auth|oauth2?|oidc|openid|saml2?|authori[sz]e|authenticate|idp|adfs|okta|auth0|cloudflareaccess)([^a-z0-9]|$)/i;

export interface Redirect {
  /**
   * The Location resolved against the request URL, as scheme, host and path: never the query,
   * fragment or user info, which may carry secrets. Undefined without a usable Location.
   */
  location: string | undefined;
  cause: RedirectCause;
}

/** Where a 3xx points, shown safely, and what it most likely means. */
export function readRedirect(locationHeader: string | null, requestUrl: URL): Redirect {
  const target = resolve(locationHeader, requestUrl);
  return { location: target && `${target.protocol}//${target.host}${target.pathname}`, cause: causeOf(requestUrl, target) };
}

function resolve(location: string | null, requestUrl: URL): URL | undefined {
  if (location === null || location.trim() === '') return undefined;
  try {
    return new URL(location.trim(), requestUrl);
  } catch {
    return undefined;
  }
}

function causeOf(requestUrl: URL, target: URL | undefined): RedirectCause {
  if (!target) return 'elsewhere';
  if (SIGN_IN.test(target.hostname) || SIGN_IN.test(target.pathname)) return 'login';
  const upgrade = requestUrl.protocol === 'http:' && target.protocol === 'https:';
  return upgrade && target.hostname === requestUrl.hostname && target.pathname === requestUrl.pathname ? 'https' : 'elsewhere';
}

/** `redirected (302) to https://sso.example.com/login: a login proxy in front of MLflow?` */
export function describeRedirect(
  status: number,
  location: string | undefined,
  cause: RedirectCause = 'elsewhere',
  server = 'MLflow',
): string {
  if (location === undefined) return `redirected (${status}) without saying where to (no Location): not an answer ${server} gives`;
  const to = `redirected (${status}) to ${location}`;
  switch (cause) {
    case 'login':
      return `${to}: a login proxy in front of ${server}?`;
    case 'https':
      return `${to}: the server takes https only`;
    case 'elsewhere':
      return `${to}: not an answer ${server} gives (it does not redirect)`;
  }
}

/**
 * What to do about a redirect, and the exit code. `path` is the request's own path, so an https
 * redirect of `/api/…` names the https base URL to use instead.
 */
export function redirectAdvice(cause: RedirectCause, location: string | undefined, path: string): { hint: string; exitCode: ExitCode } {
  switch (cause) {
    case 'login':
      return {
        exitCode: ExitCode.auth,
        hint: 'sign in to the proxy and give otel-mlflow a token it accepts (MLFLOW_TRACKING_TOKEN), or point MLFLOW_TRACKING_URI past the proxy, at MLflow itself',
      };
    case 'https': {
      const base = location && path.startsWith('/') && location.endsWith(path) ? location.slice(0, -path.length) : undefined;
      return { exitCode: ExitCode.unreachable, hint: `use the https URL in MLFLOW_TRACKING_URI${base ? `: ${base}` : ''}` };
    }
    case 'elsewhere':
      return {
        exitCode: ExitCode.unreachable,
        hint: "MLFLOW_TRACKING_URI must be MLflow's base URL (e.g. http://127.0.0.1:5000; no /api or /#/ suffix); otel-mlflow does not follow redirects",
      };
  }
}
