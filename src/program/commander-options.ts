import { Option, type Command } from 'commander';
import { CONFIG_OPTIONS, OPTION_KEYS, flagName, hasFlag, type FlagValues } from '../config/options.ts';
import type { ConfigFlagEntry, OptionTable, OptionValues, TableEntry } from '../cli/option-table.ts';

/** commander's options for a table, in its order (the order --help lists them in). */
export function addOptions(command: Command, table: OptionTable): void {
  for (const [name, entry] of Object.entries(table)) command.addOption(toOption(name, entry));
}

function toOption(name: string, entry: TableEntry): Option {
  switch (entry.kind) {
    case 'config':
      return configOption(entry);
    case 'switch':
      return entry.negate ? new Option(negated(name), entry.description) : new Option(flagName(name), entry.description).default(false);
    case 'value': {
      const option = new Option(`${flagName(name)} ${entry.argument}`, entry.description);
      if (entry.choices) option.choices(entry.choices);
      if (entry.default !== undefined) option.default(entry.default);
      return option;
    }
  }
}

function configOption(entry: ConfigFlagEntry): Option {
  const { flag, parse } = CONFIG_OPTIONS[entry.key];
  const description = entry.description ?? flag.description;
  if ('negate' in flag) return new Option(negated(flag.name), description);
  const option = new Option(`${flagName(flag.name)} ${flag.argument}`, description);
  if ('choices' in parse) option.choices(parse.choices);
  if ('repeatable' in flag) option.argParser(joinRepeated);
  return option;
}

function negated(name: string): string {
  return `--no-${flagName(name).slice(2)}`;
}

/** A repeatable flag as the one comma-separated value the config loader parses. */
function joinRepeated(value: string, previous: string | undefined): string {
  return previous === undefined ? value : `${previous},${value}`;
}

/**
 * What a command receives for its own options, from what commander read: each value parsed where
 * its option is declared, so a bad one is refused (a usage error) before the command loads.
 */
export function readOptions<T extends OptionTable>(table: T, given: Readonly<Record<string, unknown>>): OptionValues<T> {
  const values: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(table)) {
    const value = given[name];
    if (entry.kind === 'switch') values[name] = entry.negate ? value !== false : value === true;
    else if (entry.kind === 'value' && typeof value === 'string') values[name] = entry.parse(value, flagName(name));
  }
  // Built key by key from the table that OptionValues<T> is computed from.
  return values as OptionValues<T>;
}

/** The config table's flags as given, for the loader, which parses them as it parses every other source. */
export function flagsFrom(given: Readonly<Record<string, unknown>>, configFile: string | undefined): FlagValues {
  const flags: FlagValues = configFile === undefined ? {} : { config: configFile };
  for (const key of OPTION_KEYS.filter(hasFlag)) {
    const { name } = CONFIG_OPTIONS[key].flag;
    const value = given[name];
    if (typeof value === 'string') flags[name] = value;
    // `--no-capture-content` is the only way to say it on the command line; absent means "not given".
    else if (value === false) flags[name] = 'false';
  }
  return flags;
}
