import type { FlaggedOptionKey } from '../config/options.ts';

/**
 * A command's options, declared once: the key is the option's name (`minPassRate` is
 * `--min-pass-rate`, as commander names it), each entry says how --help shows it and how its text
 * becomes the typed value the command's `run()` receives. Options of the config table
 * (src/config/options.ts) appear by reference: their flag, help and choices come from there, their
 * values reach the command through the config loader, with env variables and the config file.
 */
export type OptionTable = Readonly<Record<string, TableEntry>>;

export type TableEntry = ValueOption<unknown> | SwitchOption | ConfigFlagEntry;

/** An option that takes a value: `--repeat <n>`. */
interface ValueOption<T> {
  kind: 'value';
  /** The value as --help shows it: `<n>`. */
  argument: string;
  description: string;
  /** Passed on when the option is not given (and parsed like a given value); --help shows it quoted. */
  default?: string;
  /** Anything else is refused by commander, with the list. */
  choices?: readonly string[];
  /** The value the command receives; throws an ExpectedError (a usage error) for text it cannot take. */
  parse(text: string, flag: string): T;
}

/** An option that takes no value: `--spawn` is off unless given, `--no-color` on unless given. */
interface SwitchOption {
  kind: 'switch';
  description: string;
  negate?: true;
}

/** An option of the config table, given on this command's command line. */
export interface ConfigFlagEntry {
  kind: 'config';
  key: FlaggedOptionKey;
  /** What the flag means to this command, where the config table's help says it for another. */
  description?: string;
}

type Defaulted = { default: string };

/** What one entry gives the command: a switch is a boolean; an option without a default may be absent. */
type ValueOf<E> = E extends SwitchOption ? boolean : E extends ValueOption<infer T> ? (E extends Defaulted ? T : T | undefined) : never;
type OwnKeys<T> = { [K in keyof T]: T[K] extends ConfigFlagEntry ? never : K }[keyof T];
type AlwaysSet<T> = { [K in OwnKeys<T>]: undefined extends ValueOf<T[K]> ? never : K }[OwnKeys<T>];

/** The options a command's `run()` receives, typed by its table: config flags reach it as `ctx.flags`. */
export type OptionValues<T extends OptionTable> = { [K in AlwaysSet<T>]: ValueOf<T[K]> } & {
  [K in Exclude<OwnKeys<T>, AlwaysSet<T>>]?: ValueOf<T[K]>;
};

/** `--spawn`: off unless given. */
export function toggle(description: string): SwitchOption {
  return { kind: 'switch', description };
}

/** `--no-color`: on unless given. */
export function toggleOff(description: string): SwitchOption {
  return { kind: 'switch', description, negate: true };
}

/** Text taken as given. */
export function text(argument: string, description: string): ValueOption<string>;
export function text(argument: string, description: string, defaultText: string): ValueOption<string> & Defaulted;
export function text(argument: string, description: string, defaultText?: string): ValueOption<string> {
  return valueOption(argument, description, (given) => given, defaultText);
}

/** One of a fixed list; commander refuses anything else before a command starts. */
export function choice<const C extends string>(argument: string, description: string, choices: readonly C[]): ValueOption<C>;
export function choice<const C extends string>(
  argument: string,
  description: string,
  choices: readonly C[],
  defaultChoice: NoInfer<C>,
): ValueOption<C> & Defaulted;
export function choice<const C extends string>(
  argument: string,
  description: string,
  choices: readonly C[],
  defaultChoice?: C,
): ValueOption<C> {
  const pick = (given: string): C => {
    const found = choices.find((c) => c === given);
    // commander has refused any other value already.
    if (found === undefined) throw new TypeError(`'${given}' is not one of ${choices.join(', ')}`);
    return found;
  };
  return { ...valueOption(argument, description, pick, defaultChoice), choices };
}

/** Text turned into a value (a number in range, a point in time, an address) by `parse`, which names the flag when it refuses. */
export function parsed<T>(argument: string, description: string, parse: (text: string, flag: string) => T): ValueOption<T>;
export function parsed<T>(
  argument: string,
  description: string,
  parse: (text: string, flag: string) => T,
  defaultText: string,
): ValueOption<T> & Defaulted;
export function parsed<T>(
  argument: string,
  description: string,
  parse: (text: string, flag: string) => T,
  defaultText?: string,
): ValueOption<T> {
  return valueOption(argument, description, parse, defaultText);
}

function valueOption<T>(
  argument: string,
  description: string,
  parse: (text: string, flag: string) => T,
  defaultText: string | undefined,
): ValueOption<T> {
  return { kind: 'value', argument, description, parse, ...(defaultText !== undefined && { default: defaultText }) };
}

/** An option of the config table on this command's command line, optionally described for this command. */
export function configFlag(key: FlaggedOptionKey, description?: string): ConfigFlagEntry {
  return { kind: 'config', key, ...(description !== undefined && { description }) };
}

/** The LLM flags of every command that talks to a model. */
export const LLM_FLAGS = {
  llmProvider: configFlag('llmProvider'),
  llmModel: configFlag('llmModel'),
  captureContent: configFlag('captureContent'),
} satisfies OptionTable;

/** For the commands whose traces can be tied to an MLflow run. */
export const RUN_FLAG = { runId: configFlag('runId') } satisfies OptionTable;
