import { LlmError } from '../../agent/types.ts';
import type { PostOutcome } from '../../agent/client/post-question.ts';
import { tokenRefused } from '../../agent/client/token-refused.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { LLM_ERROR, LLM_UNREACHABLE } from '../../agent/server/llm-error-codes.ts';
import type { LlmClient } from '../../agent/llm/types.ts';
import { commandLine } from '../../invocation.ts';

/** The person stopped the answer; the trace says so rather than ending as a success. */
export class AskInterrupted extends Error {
  constructor() {
    super('interrupted before the answer was complete');
    this.name = 'AskInterrupted';
  }
}

/** The server knows its LLM; this process does not. */
const SERVER_LLM_HINT =
  "`GET /` on the server names its LLM provider and model, and the server's log the cause; or start it with --provider offline";

/** What to check when the model provider fails: the LLM by name, where its settings come from, and a way round it. */
function llmFailureHint(llm: Pick<LlmClient, 'provider' | 'describe'>): string {
  const settings =
    llm.provider === 'databricks'
      ? 'DATABRICKS_HOST, its credentials, and the serving endpoint (--model or OTEL_MLFLOW_LLM_MODEL)'
      : llm.provider === 'anthropic'
        ? 'ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY, and the model (--model or OTEL_MLFLOW_LLM_MODEL)'
        : 'OPENAI_BASE_URL, OPENAI_API_KEY, and the model (--model or OTEL_MLFLOW_LLM_MODEL)';
  return `the LLM is ${llm.describe()}: check ${settings}; or answer with the built-in model: --provider offline`;
}

/**
 * The agent's failure as a person should read it (or Ctrl-C's exit code); anything else is a bug and
 * is rethrown. A failing model provider is "unreachable" (exit 4): the thing `ask` depends on did not answer.
 */
export function askFailure(error: unknown, llm: Pick<LlmClient, 'provider' | 'describe'>): ExpectedError | number {
  if (error instanceof AskInterrupted) return ExitCode.interrupted;
  if (error instanceof LlmError) {
    return new ExpectedError(error.message, { exitCode: ExitCode.unreachable, hint: llmFailureHint(llm), cause: error.cause ?? error });
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
  if (outcome.foreign) {
    return new ExpectedError(`${url} answered ${outcome.error}`, {
      exitCode: ExitCode.unreachable,
      hint: `--url must be the address \`${commandLine('serve')}\` prints when it starts ("listening on http://…"); its GET / answers its health JSON`,
    });
  }
  if (outcome.httpStatus === 401) return tokenRefused(url, outcome.error, { flag: false });
  if (outcome.code === LLM_ERROR || outcome.code === LLM_UNREACHABLE)
    return new ExpectedError(outcome.error, { exitCode: ExitCode.unreachable, hint: SERVER_LLM_HINT });
  const refused = outcome.httpStatus >= 400;
  const clientError = refused && outcome.httpStatus < 500;
  return new ExpectedError(refused ? `${url} answered ${outcome.error}` : `${url}: ${outcome.error}`, {
    exitCode: clientError ? ExitCode.usage : ExitCode.unreachable,
    hint: clientError ? 'the API is described at /docs on the server' : 'the server log has the details',
  });
}
