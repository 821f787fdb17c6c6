import type { AuthSettings } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { connectTo } from '../../mlflow/connect.ts';
import { describeErrorBody } from '../../http-client/error-body.ts';
import type { RawResponse } from '../../http-client/send.ts';
import { maskSentCredential } from '../../http-client/redaction.ts';
import { describeRedirect, isRedirect } from '../../http-client/redirect.ts';
import { CHECK_TIMEOUT_MS, withHint } from './check-destination.ts';

/** How one provider's API is asked to list its models: it does so for any valid key and refuses any other, without spending tokens. */
interface KeyCheck {
  /** As people read it: `the OpenAI API`. */
  api: string;
  /** The list of models, under the base URL. */
  path: string;
  /** The key as the API takes it: a bearer token, or headers of its own. */
  credentials(apiKey: string): { auth: AuthSettings; headers?: Record<string, string> };
  /** The field of the answer's `error` that names what went wrong, shown before its message. */
  errorKind: 'code' | 'type';
  /** What any other server answering there is called, in an error that cannot read its answer. */
  compatible: string;
  unreachableHint: string;
  refusedHint: string;
  wrongUrlHint: string;
}

const OPENAI: KeyCheck = {
  api: 'the OpenAI API',
  path: '/models',
  credentials: (apiKey) => ({ auth: { kind: 'bearer', token: { value: apiKey, source: { kind: 'default' } } } }),
  errorKind: 'code',
  compatible: 'an OpenAI-compatible API',
  unreachableHint: 'Check the network, and the base URL (--openai-base-url, or OPENAI_BASE_URL) if you use an OpenAI-compatible server.',
  refusedHint: 'check the key (https://platform.openai.com/api-keys), or choose the offline provider for now',
  wrongUrlHint: 'give the base URL of an OpenAI-compatible API, usually ending in /v1 (--openai-base-url, or OPENAI_BASE_URL)',
};

/**
 * The API requires a version on every request; its first one, which every Anthropic-compatible server
 * takes too. What is read here, the status and the error, is the same in every version.
 */
const ANTHROPIC_VERSION = '2023-06-01';

const ANTHROPIC: KeyCheck = {
  api: 'the Anthropic API',
  path: '/v1/models?limit=1',
  credentials: (apiKey) => ({ auth: { kind: 'none' }, headers: { 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION } }),
  errorKind: 'type',
  compatible: 'an Anthropic-compatible API',
  unreachableHint: 'Check the network, and the base URL (--anthropic-base-url, or ANTHROPIC_BASE_URL) if you go through a proxy.',
  refusedHint: 'check the key (https://console.anthropic.com/settings/keys), or choose the offline provider for now',
  wrongUrlHint:
    'give the base URL of the Anthropic API or of a compatible server, without /v1 (--anthropic-base-url, or ANTHROPIC_BASE_URL)',
};

export const checkOpenAiKey = (apiKey: string, baseUrl: string) => checkKey(OPENAI, apiKey, baseUrl);
export const checkAnthropicKey = (apiKey: string, baseUrl: string) => checkKey(ANTHROPIC, apiKey, baseUrl);

async function checkKey(check: KeyCheck, apiKey: string, baseUrl: string): Promise<void> {
  const { auth, headers } = check.credentials(apiKey);
  const { http } = connectTo(baseUrl, auth, { timeoutMs: CHECK_TIMEOUT_MS });
  let answer: RawResponse;
  try {
    answer = await http.request({ method: 'GET', path: check.path, ...(headers && { headers }), raw: true });
  } catch (error) {
    throw withHint(error, check.unreachableHint);
  }
  if (answer.status >= 200 && answer.status < 300) return;
  const reason = reasonOf(check, answer, apiKey);
  if (answer.status === 401 || answer.status === 403) {
    throw new ExpectedError(`${check.api} at ${baseUrl} refused the API key: ${reason}`, {
      exitCode: ExitCode.auth,
      hint: check.refusedHint,
    });
  }
  throw new ExpectedError(`GET ${baseUrl}${check.path.split('?', 1)[0]} failed: ${reason}`, {
    exitCode: ExitCode.unreachable,
    hint: check.wrongUrlHint,
  });
}

/**
 * The API's error in one line — OpenAI's `{"error": {"message", "code"}}`, Anthropic's
 * `{"type": "error", "error": {"type", "message"}}` — the key masked where an answer quotes it back.
 */
function reasonOf(check: KeyCheck, answer: RawResponse, apiKey: string): string {
  if (isRedirect(answer.status)) return describeRedirect(answer.status, answer.location, answer.redirectCause, check.api);
  const error = (answer.json as { error?: Record<string, unknown> } | undefined)?.error;
  if (typeof error?.message !== 'string') return describeErrorBody(answer, check.compatible);
  const kind = error[check.errorKind];
  const message = maskSentCredential(error.message, answer).split(apiKey).join('***');
  return `HTTP ${answer.status}${typeof kind === 'string' ? ` ${kind}` : ''}: ${message}`;
}
