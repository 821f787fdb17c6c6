import type { Parsed } from '../../config/parse-values.ts';
import type { Source } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { PromptCancelled, type Prompter, type Validate } from './prompter.ts';

/** What a person sees while `init` tests each answer. */
export interface InitProgress {
  checking(title: string): void;
  passed(detail: string): void;
  /** The answer did not work; the question comes again. */
  retrying(error: ExpectedError): void;
}

export interface InitSession {
  /** Absent when nobody can answer: every answer then comes from the flags. */
  prompter?: Prompter;
  progress: InitProgress;
  /** A value already in the environment, else in the env file. */
  existing(name: string): string | undefined;
  cwd: string;
  homeDir: string;
}

/** Where a typed or flag-given answer "came from", for messages that name sources. */
export const ANSWERED: Source = { kind: 'derived', from: 'your answer to init' };

/** A person cannot be expected to get it right forever; after this many tries the last failure stands. */
const MAX_ATTEMPTS = 10;

/** The person chose, after a failed answer, to go back to an earlier question. */
export class GoBack extends Error {
  constructor() {
    super('init went back to an earlier question');
    this.name = 'GoBack';
  }
}

/**
 * Runs `attempt` until it passes. A failure is shown and the attempt repeated, told what went wrong so
 * it can ask the right question again; without a person to ask, the first failure is final. With
 * `backTo`, the person may instead go back to that question (GoBack is thrown for its asker). With
 * `untested`, a failure it has an answer for (a server that does not answer now) may be kept untested.
 */
export async function untilAccepted<T>(
  session: InitSession,
  attempt: (previous: ExpectedError | undefined) => Promise<T>,
  options: { backTo?: string; untested?: (error: ExpectedError) => { value: T; choice: string } | undefined } = {},
): Promise<T> {
  let previous: ExpectedError | undefined;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(previous);
    } catch (error) {
      if (!(error instanceof ExpectedError) || error instanceof PromptCancelled || !session.prompter || tries >= MAX_ATTEMPTS) throw error;
      session.progress.retrying(error);
      const untested = options.untested?.(error);
      const next = await askWhatNow(session.prompter, options.backTo, untested?.choice);
      if (next === 'back') throw new GoBack();
      if (next === 'untested') return untested!.value;
      previous = error;
    }
  }
}

async function askWhatNow(
  prompter: Prompter,
  backTo: string | undefined,
  untested: string | undefined,
): Promise<'retry' | 'back' | 'untested'> {
  if (backTo === undefined && untested === undefined) return 'retry';
  return prompter.select<'retry' | 'back' | 'untested'>({
    message: 'What now?',
    choices: [
      { value: 'retry', name: 'Try another answer' },
      ...(untested === undefined ? [] : [{ value: 'untested' as const, name: untested }]),
      ...(backTo === undefined ? [] : [{ value: 'back' as const, name: `Back to "${backTo}"` }]),
    ],
    default: 'retry',
  });
}

/** The prompter, where the flow needs an answer the flags did not give. */
export function ask(session: InitSession): Prompter {
  // missingFlags() lists every answer a script must give before any question could come up.
  if (!session.prompter) throw new Error('init needs an answer that no flag gave, and nobody can be asked');
  return session.prompter;
}

export const nonEmpty: Validate = (value) => (value.trim() === '' ? 'an answer is needed' : true);

/**
 * One parser for an answer, two uses: the prompt's validation (a person retypes) and the check of a
 * flag's value (a script fails with the same words).
 */
export function parsedAnswer<T>(parse: (text: string) => Parsed<T>, what: string, hint?: string) {
  const problem = (text: string) => {
    const parsed = parse(text.trim());
    return parsed.ok ? parsed : { ok: false as const, problem: `${what} ${parsed.problem}` };
  };
  const validate: Validate = (text) => {
    const parsed = problem(text);
    return parsed.ok ? true : parsed.problem;
  };
  const value = (text: string): T => {
    const parsed = problem(text);
    if (!parsed.ok) throw new ExpectedError(parsed.problem, { exitCode: ExitCode.usage, ...(hint && { hint }) });
    return parsed.value;
  };
  return { validate, value };
}
