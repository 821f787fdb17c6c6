/** What must not travel on into error messages: the credential we sent, a URL's query. */

const sentAuthorization = new WeakMap<object, string>();

/** Remembers which Authorization value produced an answer, so errors built from it can mask it. */
export function rememberAuthorization(answer: object, authorization: string | undefined): void {
  if (authorization) sentAuthorization.set(answer, authorization);
}

/** Servers and proxies sometimes echo the request back; mask the credential sent with `answer`. */
export function maskSentCredential(text: string, answer: object): string {
  const authorization = sentAuthorization.get(answer);
  if (!authorization) return text;
  const secrets = [authorization, authorization.replace(/^\S+\s+/, '')];
  const basic = /^Basic\s+(.+)$/i.exec(authorization)?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    secrets.push(decoded.slice(decoded.indexOf(':') + 1));
  }
  // Very short fragments would mangle the message more than they could leak.
  return secrets.reduce((out, secret) => (secret.length >= 3 ? out.split(secret).join('***') : out), text);
}

/** A request's path as messages show it: no query (a signed URL's query is a credential). */
export function pathForDisplay(path: string): string {
  if (/^https?:\/\//i.test(path)) {
    const url = new URL(path);
    return `${url.origin}${url.pathname}`;
  }
  return path.split('?', 1)[0]!;
}
