import * as ai from 'ai';
import { instrumentVercelAi } from '../tracing/vercel-ai/instrument-vercel-ai.ts';
import type { InstrumentationSettings } from './instrumentation-settings.ts';

/**
 * AI SDK 7 and on: every call of the program reported through one integration registered on the
 * program's own `ai`. Up to AI SDK 6 the switch is an argument of each call, and an ES module's
 * bindings cannot be replaced from outside: there the program's imports of the package get a module
 * that switches it on instead (package-redirects.ts, ai-with-telemetry.ts).
 */
export function patch(settings: InstrumentationSettings): void {
  if (typeof (ai as Record<string, unknown>).registerTelemetry !== 'function') return;
  instrumentVercelAi(ai, settings);
}
