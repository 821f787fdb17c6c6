import type { LlmProviderName, ResolvedConfig } from '../config/types.ts';
import { DEFAULT_DATABRICKS_MODEL, DEFAULT_OPENAI_MODEL, OFFLINE_MODEL } from './llm-defaults.ts';

/** Kept apart from the clients: `config` shows the choice without loading openai. */
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

/** The model a provider is called with: the configured one, else its default; offline has only its own. */
export function modelFor(provider: LlmProviderName, config: ResolvedConfig): string {
  if (provider === 'offline') return OFFLINE_MODEL;
  return config.llm.model?.value ?? (provider === 'openai' ? DEFAULT_OPENAI_MODEL : DEFAULT_DATABRICKS_MODEL);
}
