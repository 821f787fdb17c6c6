import { isAbsolute, join, resolve } from 'node:path';
import type { ConfigProblem } from '../errors.ts';
import { readDatabricksCfg } from './databricks-cfg.ts';
import { describeSource } from './mask.ts';
import type { DatabricksProfileLayer, Resolution } from './resolve-options.ts';
import { classifyTrackingUri } from './tracking-uri.ts';
import type { Source } from './types.ts';

export interface ProfileChoice {
  name: string;
  source: Source;
  /** Asked for by name (flag, variable, config file or databricks://<profile>), not the DEFAULT fallback. */
  explicit: boolean;
}

/** --profile, then DATABRICKS_CONFIG_PROFILE (both in `option`), then databricks://<profile>, then DEFAULT. */
export function chooseProfile(option: Resolution<string> | undefined, trackingUri: Resolution<string> | undefined): ProfileChoice {
  if (option) return { name: option.value, source: option.source, explicit: true };
  const target = trackingUri && classifyTrackingUri(trackingUri.value);
  if (trackingUri && target?.ok && target.value.kind === 'databricks' && target.value.profile) {
    return { name: target.value.profile, source: { kind: 'derived', from: describeSource(trackingUri.source) }, explicit: true };
  }
  return { name: 'DEFAULT', source: { kind: 'default' }, explicit: false };
}

export interface ProfileLoad {
  layer?: DatabricksProfileLayer;
  /** The file the profile came from, when one was found. */
  path?: string;
  /** Only worth reporting when Databricks is the destination or the profile was asked for by name. */
  problems: ConfigProblem[];
}

const DEFAULT_CFG = '.databrickscfg';

export async function loadProfile(
  choice: ProfileChoice,
  configFile: Resolution<string> | undefined,
  dirs: { cwd: string; homeDir: string },
): Promise<ProfileLoad> {
  const path = configFile ? expandPath(configFile.value, dirs) : join(dirs.homeDir, DEFAULT_CFG);
  const displayPath = configFile ? path : `~/${DEFAULT_CFG}`;
  const cfg = await readDatabricksCfg(path);
  if (!cfg) {
    const problems: ConfigProblem[] = [];
    if (configFile) problems.push({ message: `Databricks config file ${path} does not exist`, source: describeSource(configFile.source) });
    else if (choice.explicit) {
      problems.push({
        message: `profile ${choice.name} was asked for, but ${displayPath} does not exist`,
        source: describeSource(choice.source),
      });
    }
    return { problems };
  }
  const problems: ConfigProblem[] = cfg.badLines.map((line) => ({
    message: `${displayPath} line ${line} could not be parsed: expected [profile], key = value, or a # comment`,
  }));
  const values = cfg.profiles.get(choice.name);
  if (!values) {
    if (choice.explicit) {
      const existing = [...cfg.profiles.keys()];
      problems.push({
        message: `profile ${choice.name} is not in ${displayPath}; ${existing.length ? `profiles there: ${existing.join(', ')}` : 'it has no profiles'}`,
        source: describeSource(choice.source),
      });
    }
    return { problems };
  }
  return { layer: { displayPath, profile: choice.name, values }, path, problems };
}

/** `~/x` as a shell would, and relative paths from the working directory, as the Databricks CLI does. */
export function expandPath(path: string, dirs: { cwd: string; homeDir: string }): string {
  if (path === '~' || path.startsWith('~/')) return join(dirs.homeDir, path.slice(1));
  return isAbsolute(path) ? path : resolve(dirs.cwd, path);
}
