import type { Attributes } from '@opentelemetry/api';

/** `server.address` and `server.port` of an LLM client's base URL: only those, since a base URL may carry credentials in its user-info or query. */
export function serverAttributes(baseURL: string): Attributes {
  try {
    const url = new URL(baseURL);
    return { 'server.address': url.hostname, 'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
  } catch {
    return {};
  }
}
