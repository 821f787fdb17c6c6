import * as ai from 'ai';
import { instrumentVercelAi } from '../tracing/vercel-ai/instrument-vercel-ai.ts';
import type { InstrumentationSettings } from './instrumentation-settings.ts';

/**
 * AI SDK 7 and on: every call of the program reported through one integration registered on the
 * program's own `ai`. Up to AI SDK 6 the switch is an argument of each call, which only replacing the
 * module's exports could add — and an ES module's bindings cannot be replaced from outside — so those
 * versions stay untraced here; a program that passes `experimental_telemetry` itself is relayed as usual.
 */
export function patch(settings: InstrumentationSettings): void {
  if (typeof (ai as Record<string, unknown>).registerTelemetry !== 'function') return;
  instrumentVercelAi(ai, settings);
}
