import { text } from 'node:stream/consumers';
import { MAX_QUERY_CHARS } from '../../agent/request-limits.ts';
import { whenPromptClosed } from '../../cli/prompt-closed.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { commandLine } from '../../invocation.ts';

export interface QuestionInput {
  /** The question given on the command line, if any. */
  argument?: string;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Asks a person at a terminal; absent when nobody can answer (no TTY, --json). */
  prompt?: () => Promise<string>;
}

const usageHint = () => `pass the question as an argument (\`${commandLine('ask "What is MLflow tracing?"')}\`) or pipe it on stdin`;

/** The question from the argument, else a prompt at a terminal, else whatever is piped on stdin. */
export async function readQuestion(input: QuestionInput): Promise<string> {
  let question: string;
  if (input.argument !== undefined) question = input.argument;
  else if (input.stdin.isTTY) {
    if (!input.prompt) throw new ExpectedError('no question given', { exitCode: ExitCode.usage, hint: usageHint() });
    question = await input.prompt();
  } else question = await text(input.stdin);
  question = question.trim();
  if (question === '') throw new ExpectedError('the question is empty', { exitCode: ExitCode.usage, hint: usageHint() });
  // The limit serve applies: a question asked here is answered as it would be there, or refused alike.
  if (question.length > MAX_QUERY_CHARS) {
    throw new ExpectedError(
      `the question has ${question.length} characters; the agent takes at most ${MAX_QUERY_CHARS} (serve refuses longer ones too)`,
      {
        exitCode: ExitCode.usage,
        hint: 'shorten it, or ask about one part at a time',
      },
    );
  }
  return question;
}

/** @inquirer/prompts' `input`; Ctrl-C there is a choice not to ask, not a crash. */
export async function promptForQuestion(output: NodeJS.WritableStream): Promise<string> {
  const { input } = await import('@inquirer/prompts');
  const answer = input(
    { message: 'Your question:', validate: (value) => (value.trim() === '' ? 'type a question, or Ctrl-C to stop' : true) },
    { output },
  );
  return whenPromptClosed(answer, () => {
    throw new ExpectedError('no question: the prompt was closed', { exitCode: ExitCode.usage, hint: usageHint() });
  });
}
