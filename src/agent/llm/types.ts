import type OpenAI from 'openai';
import type { LlmProviderName } from '../../config/types.ts';

/** One configured chat model, reached through the official openai client whatever the provider. */
export interface LlmClient {
  readonly provider: LlmProviderName;
  /** The model (or Databricks serving endpoint) name sent in every request. */
  readonly model: string;
  /** Already instrumented: every chat.completions.create call becomes a CHAT_MODEL span. */
  readonly client: OpenAI;
  /** Where the model is reached, as shown to people (no credentials or query). */
  readonly baseUrl: string;
  /** For `GET /` and start-up messages, e.g. 'offline (built-in, no network)'; never a secret. */
  describe(): string;
}
