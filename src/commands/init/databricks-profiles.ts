import { join } from 'node:path';
import { readDatabricksCfg } from '../../config/databricks-cfg.ts';
import { expandPath } from '../../config/databricks-profile.ts';
import { parseDatabricksHost } from '../../config/parse-values.ts';
import type { AuthSettings, Source } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';

interface DatabricksProfile {
  name: string;
  /** The workspace URL, when the profile has a valid one. */
  host?: string;
  /** The credential otel-mlflow can use from it (a token wins, as in the Databricks SDKs). */
  auth?: AuthSettings;
}

export interface DatabricksProfiles {
  /** As shown to people: `~/.databrickscfg` or the DATABRICKS_CONFIG_FILE path. */
  displayPath: string;
  profiles: DatabricksProfile[];
}

/** The profiles of DATABRICKS_CONFIG_FILE or ~/.databrickscfg, in file order; undefined when there is no such file. */
export async function readDatabricksProfiles(
  configFile: string | undefined,
  dirs: { cwd: string; homeDir: string },
): Promise<DatabricksProfiles | undefined> {
  const path = configFile ? expandPath(configFile, dirs) : join(dirs.homeDir, '.databrickscfg');
  const cfg = await readDatabricksCfg(path);
  if (!cfg) return undefined;
  const displayPath = configFile ? path : '~/.databrickscfg';
  const profiles = [...cfg.profiles].map(([name, values]): DatabricksProfile => {
    const source = (key: string): Source => ({ kind: 'databrickscfg', path: displayPath, profile: name, key });
    const host = values.get('host') === undefined ? undefined : parseDatabricksHost(values.get('host')!);
    const token = values.get('token');
    const clientId = values.get('client_id');
    const clientSecret = values.get('client_secret');
    const auth: AuthSettings | undefined = token
      ? { kind: 'databricks-pat', token: { value: token, source: source('token') } }
      : clientId && clientSecret
        ? {
            kind: 'databricks-oauth-m2m',
            clientId: { value: clientId, source: source('client_id') },
            clientSecret: { value: clientSecret, source: source('client_secret') },
          }
        : undefined;
    return { name, ...(host?.ok && { host: host.value }), ...(auth && { auth }) };
  });
  return { displayPath, profiles };
}

/** The host and credential of a profile, or why otel-mlflow cannot use it. */
export function usableProfile(found: DatabricksProfiles | undefined, name: string): { host: string; auth: AuthSettings } {
  const profile = found?.profiles.find((p) => p.name === name);
  if (!found || !profile) {
    const there = found
      ? `profiles in ${found.displayPath}: ${found.profiles.map((p) => p.name).join(', ') || 'none'}`
      : 'there is no ~/.databrickscfg';
    throw new ExpectedError(`Databricks profile ${name} does not exist (${there})`, {
      exitCode: ExitCode.config,
      hint: 'create it with `databricks configure --profile <name>`, or give --databricks-host and --databricks-token',
    });
  }
  if (!profile.host) {
    throw new ExpectedError(`profile [${name}] in ${found.displayPath} has no valid host`, {
      exitCode: ExitCode.config,
      hint: `add host = https://<workspace>.cloud.databricks.com to [${name}]`,
    });
  }
  if (!profile.auth) {
    throw new ExpectedError(`profile [${name}] in ${found.displayPath} has neither a token nor client_id and client_secret`, {
      exitCode: ExitCode.auth,
      hint: `otel-mlflow signs in with a personal access token or an OAuth service principal: add token = … (or client_id and client_secret) to [${name}], or give a host and token instead`,
    });
  }
  return { host: profile.host, auth: profile.auth };
}
