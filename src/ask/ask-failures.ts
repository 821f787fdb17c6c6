import { LlmError } from '../agent/types.ts';
import type { PostOutcome } from '../agent-client/post-question.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { commandLine } from '../util/invocation.ts';

/** The person stopped the answer; the trace says so rather than ending as a success. */
export class AskInterrupted extends Error {
  constructor() {
    super('interrupted before the answer was complete');
    this.name = 'AskInterrupted';
  }
}

/** What a shell reports for a process stopped by Ctrl-C. */
export const INTERRUPTED_EXIT_CODE = 130;

/** A failing model provider is "unreachable" (exit 4): the thing `ask` depends on did not answer. */
const llmHint = () => `check the provider settings with \`${commandLine('config')}\`, or answer with the built-in model: --provider offline`;

/** The agent's failure as a person should read it (or Ctrl-C's exit code); anything else is a bug and is rethrown. */
export function askFailure(error: unknown, llm: string): ExpectedError | number {
  if (error instanceof AskInterrupted) return INTERRUPTED_EXIT_CODE;
  if (error instanceof LlmError) {
    return new ExpectedError(`the model provider failed: ${error.message} (LLM: ${llm})`, { exitCode: ExitCode.unreachable, hint: llmHint(), cause: error });
  }
  throw error;
}

/** A server's refusal, by what the person can do about it. */
export function serverFailure(outcome: Extract<PostOutcome, { ok: false }>, url: string): ExpectedError {
  if (outcome.httpStatus === null) {
    return new ExpectedError(outcome.error, {
      exitCode: ExitCode.unreachable,
      hint: `start the server with \`${commandLine('serve')}\` in another terminal, or leave out --url to ask in this process`,
    });
  }
  if (outcome.httpStatus === 401) {
    return new ExpectedError(`${url} refused the request: ${outcome.error}`, {
      exitCode: ExitCode.auth,
      hint: 'set OTEL_MLFLOW_AUTH_TOKEN to the token the server was started with (--auth-token)',
    });
  }
  if (outcome.code === 'llm_error') return new ExpectedError(outcome.error, { exitCode: ExitCode.unreachable, hint: llmHint() });
  const refused = outcome.httpStatus >= 400;
  const clientError = refused && outcome.httpStatus < 500;
  return new ExpectedError(refused ? `${url} answered ${outcome.error}` : `${url}: ${outcome.error}`, {
    exitCode: clientError ? ExitCode.usage : ExitCode.unreachable,
    hint: clientError ? 'the API is described at /docs on the server' : 'the server log has the details',
  });
}
