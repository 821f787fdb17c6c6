import { maskSecret } from './mask.ts';
import type { AuthSettings, ConfigEntry } from './types.ts';

/**
 * Shorter values are words, not keys: masking them would mangle every message that happens to contain
 * them (a password `admin`), while a key, a token or a client secret is far longer.
 */
const MIN_MASKED_LENGTH = 8;

/** Every secret the configuration of this process held, longest first (a secret may contain another). */
let secrets: string[] = [];

/**
 * A configuration's secrets (API keys, tokens, passwords, client secrets, OTLP header values, also
 * without their `Bearer ` scheme; a Basic credential also as it travels, base64).
 */
export function secretsOf(entries: readonly ConfigEntry[], auth?: AuthSettings): string[] {
  const found = entries.filter((entry) => entry.secret).flatMap((entry) => [entry.value, entry.value.replace(/^\S+\s+/, '')]);
  if (auth?.kind === 'basic') found.push(Buffer.from(`${auth.username.value}:${auth.password.value}`).toString('base64'));
  return found;
}

/**
 * Remembers secrets so that text this process records or prints can be masked wherever it came from:
 * a provider's 401 that echoes the key, an error's cause, a collector's answer. The config loader
 * calls it for every configuration it reads, valid or not; a worker thread, with its parent's.
 */
export function rememberSecrets(values: readonly string[]): void {
  const fresh = values.filter((value) => value.length >= MIN_MASKED_LENGTH && !secrets.includes(value));
  if (fresh.length > 0) secrets = [...secrets, ...new Set(fresh)].sort((a, b) => b.length - a.length);
}

/** What this thread remembers, for a worker thread to remember too. */
export function rememberedSecrets(): readonly string[] {
  return secrets;
}

/** The text with every configured secret in it masked as `config` shows secrets (`****` and at most a tail). */
export function maskSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, maskSecret(secret));
  return out;
}

/** JSON text of a value with every string in it masked (before escaping, so a secret with a quote in it is still found). */
export function jsonWithoutSecrets(value: unknown, space?: number): string {
  if (secrets.length === 0) return JSON.stringify(value, null, space);
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? maskSecrets(item) : item), space);
}
