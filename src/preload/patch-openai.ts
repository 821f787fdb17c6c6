import { OpenAI } from 'openai';
import { instrumentOpenAI } from '../tracing/openai/instrument-openai.ts';
import { instrumentOnFirstCall, type ResourceClass } from './instrument-on-first-call.ts';
import type { InstrumentationSettings } from './instrumentation-settings.ts';

/**
 * A client LangChain calls for its chat models (`@langchain/openai`) is already a CHAT_MODEL span of
 * LangChain's, with the same usage: traced here too, every token would count twice in the trace.
 */
const FRAMEWORK_CALLER = /[\\/]node_modules[\\/]@langchain[\\/]/;

/** Every client the program makes — `new OpenAI()`, `new AzureOpenAI()`, `withOptions()` — whichever API it calls first. */
export function patch(settings: InstrumentationSettings): void {
  // Their `_client` is protected in the SDK's types, there at run time.
  const resources = [OpenAI.Chat.Completions, OpenAI.Responses, OpenAI.Embeddings] as unknown as ResourceClass<OpenAI>[];
  instrumentOnFirstCall(resources, (client) => {
    // Once per client, on its first call: the caller is on the stack then.
    if (FRAMEWORK_CALLER.test(new Error().stack ?? '')) return;
    instrumentOpenAI(client, { ...settings, provider: 'openai' });
  });
}
