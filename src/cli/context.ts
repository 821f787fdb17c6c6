import type { FlagValues } from '../config/options.ts';
import type { GlobalOptions } from './global-options.ts';

/** What a command needs from the process; tests build one around string buffers. */
export interface CommandContext {
  globals: GlobalOptions;
  /** Flags that feed the config loader (global ones plus the command's own). */
  flags: FlagValues;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  homeDir: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** True when stdout is an interactive terminal (spinners, prompts, colour allowed). */
  interactive: boolean;
}
