import type { Tracer } from '@opentelemetry/api';
import OpenAI from 'openai';
import type { LlmProviderName, ResolvedConfig } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { createAuthProvider, type AuthProvider } from '../mlflow/auth.ts';
import { instrumentOpenAI } from './instrument-openai.ts';
import { DEFAULT_DATABRICKS_MODEL, DEFAULT_OPENAI_MODEL, OPENAI_BASE_URL } from './llm-defaults.ts';
import { OFFLINE_BASE_URL, OFFLINE_MODEL, offlineFetch } from './offline-model.ts';
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
  databricks: 'databricks',
  offline: 'otel-mlflow.offline',
};

export type ProviderChoice =
  | { provider: LlmProviderName; reason: 'configured' }
  /** Not configured, but an OpenAI key or base URL is. */
  | { provider: 'openai'; reason: 'openai-settings' }
  /** Nothing configured: the caller should say that answers come from the built-in model. */
  | { provider: 'offline'; reason: 'default' };

/** The configured provider; else openai when an OpenAI key or base URL is set; else offline. */
export function chooseProvider(config: ResolvedConfig): ProviderChoice {
  if (config.llm.provider) return { provider: config.llm.provider.value, reason: 'configured' };
  if (config.openai.apiKey || config.openai.baseUrl) return { provider: 'openai', reason: 'openai-settings' };
  return { provider: 'offline', reason: 'default' };
}

/**
 * The chat model the server talks to, behind the official openai client whatever the provider, and
 * instrumented so every chat.completions.create call becomes a CHAT_MODEL span.
 */
export function createLlmClient(config: ResolvedConfig, options: CreateLlmClientOptions): LlmClient {
  const { provider } = chooseProvider(config);
  const { client, model, describe } = providerClient(provider, config, options);
  return {
    provider,
    model,
    baseUrl: displayUrl(client.baseURL),
    client: instrumentOpenAI(client, {
      tracer: options.tracer,
      provider: GEN_AI_PROVIDER[provider],
      captureContent: config.llm.captureContent.value,
      contentAttributes: options.contentAttributes,
    }),
    describe: () => describe,
  };
}

interface ProviderClient {
  client: OpenAI;
  model: string;
  describe: string;
}

function providerClient(provider: LlmProviderName, config: ResolvedConfig, options: CreateLlmClientOptions): ProviderClient {
  switch (provider) {
    case 'offline':
      return {
        client: new OpenAI({ apiKey: 'offline', baseURL: OFFLINE_BASE_URL, fetch: offlineFetch, maxRetries: 0 }),
        model: OFFLINE_MODEL,
        describe: 'offline (built-in model, no network)',
      };
    case 'openai':
      return openaiClient(config);
    case 'databricks':
      return databricksClient(config, options);
  }
}

function openaiClient(config: ResolvedConfig): ProviderClient {
  const apiKey = config.openai.apiKey?.value;
  const baseURL = config.openai.baseUrl?.value ?? OPENAI_BASE_URL;
  if (!apiKey && !config.openai.baseUrl) {
    throw new ExpectedError('the openai provider needs an API key', {
      exitCode: ExitCode.config,
      hint: 'set OPENAI_API_KEY (in the environment or .env), or set OPENAI_BASE_URL to an OpenAI-compatible server that needs no key, or choose --provider offline',
    });
  }
  const model = config.llm.model?.value ?? DEFAULT_OPENAI_MODEL;
  return {
    // Local OpenAI-compatible servers often take no key, but the client insists on one.
    client: new OpenAI({ apiKey: apiKey ?? 'unused', baseURL, timeout: LLM_TIMEOUT_MS }),
    model,
    describe: `openai ${model} at ${displayUrl(baseURL)}`,
  };
}

function databricksClient(config: ResolvedConfig, options: CreateLlmClientOptions): ProviderClient {
  const { destination, auth: settings } = config;
  const host = destination.kind === 'databricks' || destination.kind === 'databricks-uc' ? destination.host.value : undefined;
  const hasCredential = settings.kind === 'databricks-pat' || settings.kind === 'databricks-oauth-m2m';
  if (!host || !hasCredential) {
    const missing = [!host && 'the workspace host', !hasCredential && 'a credential'].filter(Boolean).join(' and ');
    throw new ExpectedError(`the databricks provider needs ${missing} of the Databricks workspace that serves the model`, {
      exitCode: ExitCode.config,
      hint:
        'set DATABRICKS_HOST and MLFLOW_TRACKING_URI=databricks (or databricks://<profile>), with DATABRICKS_TOKEN or ' +
        'DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, in the environment, .env or ~/.databrickscfg',
    });
  }
  const origin = host.replace(/\/+$/, '');
  const auth = createAuthProvider(settings, { host: origin, ...(options.now && { now: options.now }) });
  const baseURL = `${origin}/serving-endpoints`;
  const model = config.llm.model?.value ?? DEFAULT_DATABRICKS_MODEL;
  return {
    // The key is a placeholder: workspaceFetch sets the real, possibly refreshed, credential on every request.
    client: new OpenAI({ apiKey: 'databricks-workspace-credential', baseURL, fetch: workspaceFetch(auth), timeout: LLM_TIMEOUT_MS }),
    model,
    describe: `databricks serving endpoint ${model} at ${displayUrl(baseURL)}`,
  };
}

/**
 * fetch with the workspace credential of the moment: OAuth M2M tokens expire after an hour, so the
 * header is asked for per request. After a 401/403 an OAuth token is dropped and the request is
 * sent once more with a fresh one (Databricks answers 403 for an expired token on many APIs).
 */
function workspaceFetch(auth: AuthProvider): typeof fetch {
  const send = async (input: string | URL | Request, init: RequestInit | undefined) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(await auth.headers())) headers.set(name, value);
    return fetch(input, { ...init, headers });
  };
  return async (input, init) => {
    const response = await send(input, init);
    const replayable = init?.body == null || typeof init.body === 'string';
    if ((response.status !== 401 && response.status !== 403) || auth.kind !== 'databricks-oauth-m2m' || !replayable) return response;
    auth.invalidate();
    await response.body?.cancel();
    return send(input, init);
  };
}

/** A base URL as shown to people: no credentials, query or fragment. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}
