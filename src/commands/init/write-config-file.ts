import { writeFile } from 'node:fs/promises';
import { CONFIG_OPTIONS, OPTION_KEYS, type OptionKey } from '../../config/options.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';

/** Config-file keys (which are the option keys of the options a file may set), in the table's order. */
export type ConfigFileValues = Partial<Record<OptionKey, string>>;

/**
 * The config file's JSON: only keys the option table gives a file key, never a secret (config files
 * get committed), each value one the loader accepts. Anything else is a bug in the caller.
 */
export function renderConfigFile(values: ConfigFileValues): string {
  return `${JSON.stringify(configFileSettings(values), null, 2)}\n`;
}

/** The settings as the file holds them: its own key names, in the table's order. */
export function configFileSettings(values: ConfigFileValues): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const spec = Object.hasOwn(CONFIG_OPTIONS, key) ? CONFIG_OPTIONS[key as OptionKey] : undefined;
    if (!spec?.file || spec.secret) throw new Error(`${key} cannot be written to a config file`);
    const parsed = spec.parse(value);
    if (!parsed.ok) throw new Error(`config file key ${spec.file} ${parsed.problem}`);
    settings[spec.file] = value;
  }
  const ordered = OPTION_KEYS.flatMap((key) => {
    const file = CONFIG_OPTIONS[key].file;
    return file !== undefined && file in settings ? [[file, settings[file]!] as const] : [];
  });
  return Object.fromEntries(ordered);
}

/** Writes the config file; an existing one is only replaced when `overwrite` says so. */
export async function writeConfigFile(path: string, values: ConfigFileValues, options: { overwrite: boolean }): Promise<void> {
  try {
    await writeFile(path, renderConfigFile(values), { flag: options.overwrite ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw configFileExists(path);
    throw error;
  }
}

export function configFileExists(path: string): ExpectedError {
  return new ExpectedError(`${path} already exists; it was not overwritten`, {
    exitCode: ExitCode.usage,
    hint: 'rerun with --force to replace it, or pass --config-file to write another file',
  });
}
