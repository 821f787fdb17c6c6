/**
 * Names that say a variable holds a credential: `…_API_KEY`, `…_ACCESS_KEY`, `…_SECRET(_KEY)`,
 * `…_TOKEN`, `…_PRIVATE_KEY`, `…_CREDENTIALS`, `…PASSWORD` (`PGPASSWORD` too). Not any `…_KEY`: a
 * `PARTITION_KEY` is a word, and masking it would mangle every span that says it.
 */
const CREDENTIAL_NAME =
  /(?:(?:^|_)(?:API_?KEY|ACCESS_?KEY|SECRET(?:_?ACCESS)?(?:_?KEY)?|TOKEN|PASSPHRASE|PRIVATE_?KEY|CREDENTIALS?)|PASSW(?:OR)?D)$/i;

/**
 * The credentials an environment holds beyond the settings the tool knows: a program's keys for
 * providers it has no setting for (GROQ_API_KEY, COHERE_API_KEY, AWS_SECRET_ACCESS_KEY, HF_TOKEN),
 * and the password in a URL (DATABASE_URL=postgres://app:…@db/app). A provider's refusal that
 * echoes the key, or an error that quotes a connection string, puts them in the text of a span of
 * the program `run` runs, or of an app the relay receives from, where they are masked as the tool's
 * own secrets are.
 */
export function credentialsIn(...environments: Iterable<[string, string | null | undefined]>[]): string[] {
  const found: string[] = [];
  for (const environment of environments) {
    for (const [name, value] of environment) {
      if (!value) continue;
      if (CREDENTIAL_NAME.test(name)) found.push(value);
      found.push(...urlPassword(value));
    }
  }
  return found;
}

/** A URL's password as it is written in the URL, and decoded, as an error message may give either. */
function urlPassword(value: string): string[] {
  if (!value.includes('@') || !URL.canParse(value)) return [];
  const { password } = new URL(value);
  if (!password) return [];
  try {
    return [password, decodeURIComponent(password)];
  } catch {
    return [password];
  }
}
