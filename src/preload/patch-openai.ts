import { OpenAI } from 'openai';
import { instrumentOpenAI } from '../tracing/openai/instrument-openai.ts';
import { instrumentOnFirstCall, type ResourceClass } from './instrument-on-first-call.ts';
import type { InstrumentationSettings } from './instrumentation-settings.ts';

/** Every client the program makes — `new OpenAI()`, `new AzureOpenAI()`, `withOptions()` — whichever API it calls first. */
export function patchOpenAI(settings: InstrumentationSettings): void {
  // Their `_client` is protected in the SDK's types, there at run time.
  const resources = [OpenAI.Chat.Completions, OpenAI.Responses, OpenAI.Embeddings] as unknown as ResourceClass<OpenAI>[];
  instrumentOnFirstCall(resources, (client) => instrumentOpenAI(client, { ...settings, provider: 'openai' }));
}
