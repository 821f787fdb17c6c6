import type { Tracer } from '@opentelemetry/api';
import OpenAI from 'openai';
import type { LlmProviderName, ResolvedConfig } from '../../config/types.ts';
import { ConfigError, ExitCode, ExpectedError } from '../../errors.ts';
import { createAuthProvider, sendWithFreshTokenOnRefusal, type AuthProvider } from '../../workspace-auth/auth.ts';
import { instrumentOpenAI } from '../../tracing/openai/instrument-openai.ts';
import {
  anthropicBaseUrl,
  chooseProvider,
  describeLlm,
  displayUrl,
  modelFor,
  openaiBaseUrl,
  servingBaseUrl,
} from '../../config/llm-choice.ts';
import { anthropicFetch } from './anthropic-fetch.ts';
import { OFFLINE_BASE_URL, offlineFetch } from './offline-model.ts';
import type { LlmClient } from './types.ts';

export interface CreateLlmClientOptions {
  tracer: Tracer;
  contentAttributes: 'mlflow' | 'gen_ai';
  /** Milliseconds since the epoch, for OAuth token expiry; injected by tests to move the clock. */
  now?: () => number;
}

/** A chat answer that takes longer than this is a failure for a request/response server. */
const LLM_TIMEOUT_MS = 120_000;

/** gen_ai.provider.name per provider. */
const GEN_AI_PROVIDER: Record<LlmProviderName, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  databricks: 'databricks',
  offline: 'otel-mlflow.offline',
};

/**
 * The chat model the server talks to, behind the official openai client whatever the provider, and
 * instrumented so every call becomes one CHAT_MODEL span: chat.completions.create calls, or for
 * anthropic the Messages API calls they are answered with (in Anthropic's shape, and only those: two
 * spans of one call would count its tokens twice).
 */
export function createLlmClient(config: ResolvedConfig, options: CreateLlmClientOptions): LlmClient {
  const { provider } = chooseProvider(config);
  const { client, model } = providerClient(provider, config, options);
  const describe = describeLlm(provider, config);
  return {
    provider,
    model,
    baseUrl: displayUrl(client.baseURL),
    client: provider === 'anthropic' ? client : instrumentOpenAI(client, instrumentation(provider, config, options)),
    describe: () => describe,
  };
}

function instrumentation(provider: LlmProviderName, config: ResolvedConfig, options: CreateLlmClientOptions) {
  return {
    tracer: options.tracer,
    provider: GEN_AI_PROVIDER[provider],
    captureContent: config.llm.captureContent.value,
    contentAttributes: options.contentAttributes,
  };
}

interface ProviderClient {
  client: OpenAI;
  model: string;
}

function providerClient(provider: LlmProviderName, config: ResolvedConfig, options: CreateLlmClientOptions): ProviderClient {
  switch (provider) {
    case 'offline':
      return {
        client: new OpenAI({ apiKey: 'offline', baseURL: OFFLINE_BASE_URL, fetch: offlineFetch, maxRetries: 0 }),
        model: modelFor('offline', config),
      };
    case 'openai':
      return openaiClient(config);
    case 'anthropic':
      return anthropicClient(config, options);
    case 'databricks':
      return databricksClient(config, options);
  }
}

function openaiClient(config: ResolvedConfig): ProviderClient {
  const apiKey = config.openai.apiKey?.value;
  const baseURL = openaiBaseUrl(config);
  if (!apiKey && !config.openai.baseUrl) {
    throw new ExpectedError('the openai provider needs an API key', {
      exitCode: ExitCode.config,
      hint: 'set OPENAI_API_KEY (in the environment or .env), or set OPENAI_BASE_URL to an OpenAI-compatible server that needs no key, or choose --provider offline',
    });
  }
  const model = modelFor('openai', config);
  return {
    // Local OpenAI-compatible servers often take no key, but the client insists on one.
    client: new OpenAI({ apiKey: apiKey ?? 'unused', baseURL, timeout: LLM_TIMEOUT_MS }),
    model,
  };
}

function anthropicClient(config: ResolvedConfig, options: CreateLlmClientOptions): ProviderClient {
  const apiKey = config.anthropic?.apiKey?.value;
  if (!apiKey && !config.anthropic?.baseUrl) {
    throw new ExpectedError('the anthropic provider needs an API key', {
      exitCode: ExitCode.config,
      hint: 'set ANTHROPIC_API_KEY (in the environment or .env), or set ANTHROPIC_BASE_URL to an Anthropic-compatible server that needs no key, or choose --provider offline',
    });
  }
  const baseURL = anthropicBaseUrl(config);
  const fetch = anthropicFetch({
    apiKey,
    baseURL,
    timeout: LLM_TIMEOUT_MS,
    instrumentation: instrumentation('anthropic', config, options),
  });
  return {
    // The key stays with the Anthropic client behind `fetch`; the base URL is only what errors and `GET /` name.
    client: new OpenAI({ apiKey: 'anthropic-credential-behind-fetch', baseURL, fetch, timeout: LLM_TIMEOUT_MS }),
    model: modelFor('anthropic', config),
  };
}

function databricksClient(config: ResolvedConfig, options: CreateLlmClientOptions): ProviderClient {
  const workspace = config.llm.databricks;
  // loadConfig sets it whenever the provider is databricks, so its absence is a bug.
  if (!workspace) throw new Error('the databricks provider was chosen, but the config has no serving workspace');
  if ('problems' in workspace) throw new ConfigError(workspace.problems);
  const origin = workspace.host.value.replace(/\/+$/, '');
  const auth = createAuthProvider(workspace.auth, { host: origin, ...(options.now && { now: options.now }) });
  const baseURL = servingBaseUrl(origin);
  const model = modelFor('databricks', config);
  return {
    // The key is a placeholder: workspaceFetch sets the real, possibly refreshed, credential on every request.
    client: new OpenAI({ apiKey: 'databricks-workspace-credential', baseURL, fetch: workspaceFetch(auth), timeout: LLM_TIMEOUT_MS }),
    model,
  };
}

/** fetch with the workspace credential of the moment, refreshed as every MLflow call refreshes it. */
function workspaceFetch(auth: AuthProvider): typeof fetch {
  return async (input, init) => {
    const send = async () => {
      const headers = new Headers(init?.headers);
      for (const [name, value] of Object.entries(await auth.headers())) headers.set(name, value);
      return fetch(input, { ...init, headers });
    };
    // A streamed body cannot be sent twice.
    if (init?.body != null && typeof init.body !== 'string') return send();
    return sendWithFreshTokenOnRefusal(
      auth,
      send,
      (response) => response.status,
      (response) => response.body?.cancel(),
    );
  };
}
