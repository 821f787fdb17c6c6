import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { AnswerAborted, LlmError } from './types.ts';

/** What went wrong with the model provider, in a sentence the API's caller can act on (502). */
export function toLlmError(error: unknown, provider: string): unknown {
  if (error instanceof APIUserAbortError) return new AnswerAborted({ cause: error });
  if (error instanceof APIConnectionError) {
    return new LlmError(`cannot reach the ${provider} model provider: ${error.message}`, { cause: error });
  }
  if (error instanceof APIError) {
    const detail = error.status === 401 ? 'the API key was refused' : error.message;
    return new LlmError(`the ${provider} model provider answered ${error.status ?? 'an error'}: ${detail}`, {
      ...(error.status !== undefined && { status: error.status }),
      cause: error,
    });
  }
  return error;
}
