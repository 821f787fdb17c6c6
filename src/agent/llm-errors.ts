import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { maskSecrets } from '../config/configured-secrets.ts';
import type { LlmClient } from './llm/types.ts';
import { describeNetworkFailure, networkFailureOf, type NetworkFailureKind } from '../util/network-failure.ts';
import { AnswerAborted, LlmError } from './types.ts';

const UNREACHABLE: ReadonlySet<NetworkFailureKind> = new Set(['dns', 'refused', 'tls']);

/**
 * What went wrong with the model provider, in a sentence the API's caller can act on (502): which
 * provider at which address, and the cause — DNS, refused, TLS, timeout — the openai client only
 * keeps in its `cause`.
 */
export function toLlmError(error: unknown, llm: Pick<LlmClient, 'provider' | 'model' | 'baseUrl'>): unknown {
  if (error instanceof APIUserAbortError) return new AnswerAborted({ cause: error });
  const provider = `the ${llm.provider} model provider at ${llm.baseUrl}`;
  if (error instanceof APIConnectionError) {
    const failure = networkFailureOf(error.cause) ?? networkFailureOf(error);
    const why = failure ? describeNetworkFailure(failure, new URL(llm.baseUrl)) : error.message;
    // A slow answer or a dropped connection may pass; a name that does not resolve, a closed port or a bad certificate does not.
    const unreachable = failure !== undefined && UNREACHABLE.has(failure.kind);
    return new LlmError(`cannot reach ${provider}: ${why}`, { cause: error, unreachable });
  }
  if (error instanceof APIError) {
    // A provider's message may echo the key it was sent (an OpenAI-compatible server's 403, 404…).
    const detail = error.status === 401 ? 'the API key was refused' : maskSecrets(error.message);
    return new LlmError(`${provider} answered ${error.status ?? 'an error'} for model ${llm.model}: ${detail}`, {
      ...(error.status !== undefined && { status: error.status }),
      cause: error,
    });
  }
  return error;
}
