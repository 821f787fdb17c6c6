import { Anthropic } from '@anthropic-ai/sdk';
import { instrumentAnthropic } from '../tracing/anthropic/instrument-anthropic.ts';
import { instrumentOnFirstCall, type ResourceClass } from './instrument-on-first-call.ts';
import type { InstrumentationSettings } from './instrumentation-settings.ts';

/**
 * Every client the program makes, `withOptions()` ones included, on its first `messages.create()` or
 * `beta.messages.create()` (which `stream()` and `parse()` call).
 */
export function patch(settings: InstrumentationSettings): void {
  // `_client` is protected in the SDK's types, there at run time.
  const resources = [Anthropic.Messages, Anthropic.Beta.Messages] as unknown as ResourceClass<Anthropic>[];
  instrumentOnFirstCall(resources, (client) => instrumentAnthropic(client, { ...settings, provider: 'anthropic' }));
}
