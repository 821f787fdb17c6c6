import { OpenAI } from 'openai';
import { instrumentOpenAI } from '../tracing/openai/instrument-openai.ts';
import type { InstrumentationSettings } from './instrumentation-settings.ts';

interface Resource {
  _client: OpenAI;
  create(...args: unknown[]): unknown;
}

/**
 * Every client the program makes — `new OpenAI()`, `new AzureOpenAI()`, `withOptions()` — is
 * instrumented on its first call, whichever API it calls first: the clients' classes are the
 * program's to keep, so the resources' shared prototypes are patched instead of the constructor.
 */
export function patchOpenAI(settings: InstrumentationSettings): void {
  const instrumented = new WeakSet<object>();
  const instrument = (client: OpenAI) => instrumentOpenAI(client, { ...settings, provider: 'openai' });
  for (const resource of [OpenAI.Chat.Completions, OpenAI.Responses, OpenAI.Embeddings]) {
    const prototype = resource.prototype as unknown as Resource;
    const create = prototype.create;
    prototype.create = function (this: Resource, ...args: unknown[]) {
      const client = this._client;
      if (!instrumented.has(client)) {
        instrumented.add(client);
        instrument(client);
        // The instrumentation wraps the client's own resource objects; this call goes through them too.
        if (Object.hasOwn(this, 'create')) return this.create(...args);
      }
      return create.apply(this, args);
    };
  }
}
