/**
 * Which model answers, and where, as the configuration says: kept apart from the clients, so `config`
 * shows it and `init` offers the defaults without loading openai.
 */
import type { LlmProviderName, ResolvedConfig } from './types.ts';

export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';
export const DEFAULT_DATABRICKS_MODEL = 'databricks-meta-llama-3-3-70b-instruct';
/** Fast and cheap: the demo agent answers in a few sentences. */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-haiku-5-5';
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
/** The Anthropic SDK's base URL: without /v1, which it adds to every path. */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const OFFLINE_MODEL = 'otel-mlflow-offline';

export type ProviderChoice =
  | { provider: LlmProviderName; reason: 'configured' }
  /** Not configured, but an OpenAI key or base URL is. */
  | { provider: 'openai'; reason: 'openai-settings' }
  /** Not configured, no OpenAI settings, but an Anthropic key or base URL is. */
  | { provider: 'anthropic'; reason: 'anthropic-settings' }
  /** Nothing configured: the caller should say that answers come from the built-in model. */
  | { provider: 'offline'; reason: 'default' };

/** The configured provider; else openai when an OpenAI key or base URL is set; else anthropic when its are; else offline. */
export function chooseProvider(config: ResolvedConfig): ProviderChoice {
  if (config.llm.provider) return { provider: config.llm.provider.value, reason: 'configured' };
  if (config.openai.apiKey || config.openai.baseUrl) return { provider: 'openai', reason: 'openai-settings' };
  if (config.anthropic) return { provider: 'anthropic', reason: 'anthropic-settings' };
  return { provider: 'offline', reason: 'default' };
}

/** The model a provider is called with: the configured one, else its default; offline has only its own. */
export function modelFor(provider: LlmProviderName, config: ResolvedConfig): string {
  if (provider === 'offline') return OFFLINE_MODEL;
  return config.llm.model?.value ?? DEFAULT_MODELS[provider];
}

const DEFAULT_MODELS: Record<Exclude<LlmProviderName, 'offline'>, string> = {
  openai: DEFAULT_OPENAI_MODEL,
  anthropic: DEFAULT_ANTHROPIC_MODEL,
  databricks: DEFAULT_DATABRICKS_MODEL,
};

export function openaiBaseUrl(config: ResolvedConfig): string {
  return config.openai.baseUrl?.value ?? OPENAI_BASE_URL;
}

export function anthropicBaseUrl(config: ResolvedConfig): string {
  return config.anthropic?.baseUrl?.value ?? ANTHROPIC_BASE_URL;
}

/** Databricks model serving speaks the OpenAI API under the workspace's /serving-endpoints. */
export function servingBaseUrl(host: string): string {
  return `${host.replace(/\/+$/, '')}/serving-endpoints`;
}

/** The model that answers and where it is called, as people read it. */
export function describeLlm(provider: LlmProviderName, config: ResolvedConfig): string {
  const model = modelFor(provider, config);
  switch (provider) {
    case 'offline':
      return 'offline (built-in model, no network)';
    case 'openai':
      return `openai ${model} at ${displayUrl(openaiBaseUrl(config))}`;
    case 'anthropic':
      return `anthropic ${model} at ${displayUrl(anthropicBaseUrl(config))}`;
    case 'databricks': {
      const workspace = config.llm.databricks;
      const host = workspace && 'host' in workspace ? workspace.host.value : undefined;
      return `databricks serving endpoint ${model} at ${host ? displayUrl(servingBaseUrl(host)) : '(no workspace configured)'}`;
    }
  }
}

/** A base URL as shown to people: no credentials, query or fragment. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}
