import { ExitCode, ExpectedError } from '../../errors.ts';
import { connectTo } from '../../mlflow/connect.ts';
import { describeErrorBody } from '../../http-client/error-body.ts';
import type { RawResponse } from '../../http-client/send.ts';
import { maskSentCredential } from '../../http-client/redaction.ts';
import { describeRedirect, isRedirect } from '../../http-client/redirect.ts';
import { CHECK_TIMEOUT_MS, withHint } from './check-destination.ts';

/** `GET {baseUrl}/models` lists models for any valid key and refuses any other, without spending tokens. */
export async function checkOpenAiKey(apiKey: string, baseUrl: string): Promise<void> {
  const { http } = connectTo(
    baseUrl,
    { kind: 'bearer', token: { value: apiKey, source: { kind: 'default' } } },
    { timeoutMs: CHECK_TIMEOUT_MS },
  );
  let answer: RawResponse;
  try {
    answer = await http.request({ method: 'GET', path: '/models', raw: true });
  } catch (error) {
    throw withHint(
      error,
      'Check the network, and the base URL (--openai-base-url, or OPENAI_BASE_URL) if you use an OpenAI-compatible server.',
    );
  }
  if (answer.status >= 200 && answer.status < 300) return;
  const reason = openAiReason(answer);
  if (answer.status === 401 || answer.status === 403) {
    throw new ExpectedError(`the OpenAI API at ${baseUrl} refused the API key: ${reason}`, {
      exitCode: ExitCode.auth,
      hint: 'check the key (https://platform.openai.com/api-keys), or choose the offline provider for now',
    });
  }
  throw new ExpectedError(`GET ${baseUrl}/models failed: ${reason}`, {
    exitCode: ExitCode.unreachable,
    hint: 'give the base URL of an OpenAI-compatible API, usually ending in /v1 (--openai-base-url, or OPENAI_BASE_URL)',
  });
}

/** OpenAI's `{"error": {"message", "code"}}` in one line, the key masked where an answer quotes it back. */
function openAiReason(answer: RawResponse): string {
  if (isRedirect(answer.status)) return describeRedirect(answer.status, answer.location, answer.redirectCause, 'the OpenAI API');
  const error = (answer.json as { error?: { message?: unknown; code?: unknown } } | undefined)?.error;
  if (typeof error?.message !== 'string') return describeErrorBody(answer, 'an OpenAI-compatible API');
  const code = typeof error.code === 'string' ? ` ${error.code}` : '';
  return `HTTP ${answer.status}${code}: ${maskSentCredential(error.message, answer)}`;
}
