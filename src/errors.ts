import { constants } from 'node:os';
import { commandLine } from './invocation.ts';

/**
 * Expected failures carry an exit code and a hint; the CLI layer renders them as one line plus a
 * hint. Anything else that escapes is a bug and is printed with its stack.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  unreachable: 4,
  auth: 5,
  experiment: 6,
  export: 7,
  readback: 8,
  otlpUnavailable: 9,
  questionsFailed: 10,
  /** `suite --compare`: a metric got worse than the baseline run's beyond the tolerance. */
  regression: 11,
  /** `run`: the program could not be executed (no permission), as shells report it. */
  cannotExecute: 126,
  /** `run`: no such program, as shells report it. */
  commandNotFound: 127,
  /** Ctrl-C: what shells report for a process ended by SIGINT (128 + 2). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What a shell reports for a process a signal ended (128 + its number): 130 for Ctrl-C, 143 for SIGTERM. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

export class ExpectedError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(message: string, options: { exitCode: ExitCode; hint?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode;
    this.hint = options.hint;
  }
}

export interface ConfigProblem {
  /** What is wrong and, where it helps, what would be right. */
  message: string;
  /** Where the offending value came from, as rendered by describeSource(). */
  source?: string;
}

/** Every problem found while resolving the config, reported together rather than one per run. */
export class ConfigError extends ExpectedError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], hint?: string) {
    const lines = problems.map((p) => (p.source ? `${p.message} (from ${p.source})` : p.message));
    super(
      problems.length === 1 ? `Invalid configuration: ${lines[0]}` : `Invalid configuration:\n${lines.map((l) => `  - ${l}`).join('\n')}`,
      {
        exitCode: ExitCode.config,
        // One problem is on the error line itself: there is nothing "above" it.
        hint:
          hint ??
          `${problems.length === 1 ? 'fix that value where it is set' : 'fix the values listed above where they are set'}; \`${commandLine('config')}\` shows every value and where it was set`,
      },
    );
    this.problems = problems;
  }
}

/** What went wrong in one line, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
