import { whenPromptClosed } from '../../cli/prompt-closed.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';

export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
  /** Shown but not selectable; the text says why. */
  disabled?: string;
}

/** Answers `validate` with true, or with what is wrong (shown under the prompt). */
export type Validate = (value: string) => true | string;

/** The questions `init` asks; tests script the answers, the terminal asks a person. */
export interface Prompter {
  select<T>(question: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  input(question: { message: string; default?: string; validate?: Validate }): Promise<string>;
  /** Typed text is masked and never echoed. */
  password(question: { message: string; validate?: Validate }): Promise<string>;
  confirm(question: { message: string; default: boolean }): Promise<boolean>;
}

/** The person left the questions (Ctrl+C): never answered by asking again. */
export class PromptCancelled extends ExpectedError {
  constructor() {
    super('init was cancelled; nothing was written', { exitCode: ExitCode.interrupted });
  }
}

/** @inquirer/prompts on the terminal. Ctrl+C becomes an expected failure: nothing has been written yet. */
export async function terminalPrompter(output: NodeJS.WritableStream): Promise<Prompter> {
  const prompts = await import('@inquirer/prompts');
  const context = { output };
  return {
    select: (q) => {
      // Shown as text, not as a choice: inquirer would otherwise let the cursor rest on a choice Enter refuses.
      const choices = q.choices.map((choice) =>
        choice.disabled ? new prompts.Separator(`  ${choice.name} (${choice.disabled})`) : choice,
      );
      return cancellable(
        prompts.select({ message: q.message, choices, ...(q.default !== undefined && { default: q.default }), loop: false }, context),
      );
    },
    input: (q) =>
      cancellable(
        prompts.input(
          { message: q.message, ...(q.default !== undefined && { default: q.default }), ...(q.validate && { validate: q.validate }) },
          context,
        ),
      ),
    password: (q) => cancellable(prompts.password({ message: q.message, mask: '*', ...(q.validate && { validate: q.validate }) }, context)),
    confirm: (q) => cancellable(prompts.confirm({ message: q.message, default: q.default }, context)),
  };
}

function cancellable<T>(answer: Promise<T>): Promise<T> {
  return whenPromptClosed(answer, () => {
    throw new PromptCancelled();
  });
}
