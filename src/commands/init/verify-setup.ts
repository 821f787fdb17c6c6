import { join, relative } from 'node:path';
import { loadConfig } from '../../config/load-config.ts';
import { describeSource } from '../../config/mask.ts';
import { CONFIG_OPTIONS, envVarsFor, OPTION_KEYS, type OptionKey } from '../../config/options.ts';
import type { ResolvedConfig } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';

export interface WrittenSetup {
  cwd: string;
  homeDir: string;
  env: Readonly<Record<string, string | undefined>>;
  configFile: string;
  /** What the config file was written with. */
  fileValues: Partial<Record<OptionKey, string>>;
  /** Written to the env file, or nothing when no env file was written. */
  envFile?: { path: string; names: string[] };
}

/**
 * What the next `otel-mlflow` run in this directory will make of the files just written, loaded as
 * doctor loads them: anything that would hide them (another config file found first, variables in
 * the environment, an env file the loader does not read) becomes a note saying what to do.
 */
export async function noticeWhatHidesSetup(setup: WrittenSetup): Promise<{ notes: string[]; storeDir?: string }> {
  const shown = (path: string) => relative(setup.cwd, path) || path;
  const notes: string[] = [];
  const dotenv = join(setup.cwd, '.env');
  if (setup.envFile && setup.envFile.path !== dotenv) {
    notes.push(
      `otel-mlflow reads secrets only from .env in the working directory: load ${shown(setup.envFile.path)} into the environment before running it`,
    );
  }
  let config: ResolvedConfig;
  try {
    config = await loadConfig({ cwd: setup.cwd, env: setup.env, homeDir: setup.homeDir, flags: {}, purpose: 'doctor' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    notes.push(`otel-mlflow cannot load the configuration here yet: ${error.message}`);
    return { notes };
  }
  if (config.files.configFile !== setup.configFile) {
    const found = config.files.configFile ? `finds ${shown(config.files.configFile)} first` : 'does not find it by itself';
    notes.push(`otel-mlflow ${found} here: pass --config ${shown(setup.configFile)} to every command`);
    return { notes, storeDir: config.storeDir.value };
  }
  const envFile = setup.envFile;
  for (const entry of config.entries) {
    const key = entry.key as OptionKey;
    const wins = entry.source.kind !== 'file' && entry.source.kind !== 'default';
    // The same value from the environment hides nothing.
    if (wins && Object.hasOwn(setup.fileValues, key) && setup.fileValues[key] !== entry.value) {
      notes.push(
        `${describeSource(entry.source)} overrides ${key} in ${shown(setup.configFile)}: unset it, or the new setting has no effect`,
      );
    }
    const written = envFile?.names.find((name) => envName(key) === name);
    if (envFile && written && entry.source.kind === 'env') {
      notes.push(
        `${written} in your environment overrides the one written to ${shown(envFile.path)}: unset it, or the new value has no effect`,
      );
    }
  }
  return { notes, storeDir: config.storeDir.value };
}

/** Secrets are written under the first variable name of their option. */
function envName(key: OptionKey): string | undefined {
  return OPTION_KEYS.includes(key) ? envVarsFor(CONFIG_OPTIONS[key], 'doctor')[0]?.name : undefined;
}
