import { trace } from '@opentelemetry/api';
import { instrumentVercelAi } from '../tracing/vercel-ai/instrument-vercel-ai.ts';
import { preloadSettings } from './preload-settings.ts';

/**
 * The exports of the program's `ai` 6 or earlier, its calls and agents with their telemetry switched
 * on, as a program's `experimental_telemetry: { isEnabled: true }` would: those versions take the
 * switch per call only, and their spans reach the tool as any OpenTelemetry span does. What the
 * program's imports of the package get instead of the package itself (package-redirects.ts):
 * ai-telemetry-on.ts for an `import`, ai-telemetry-on-required.ts for a `require()`.
 */
export function withTelemetry(exports: object): Record<string, unknown> {
  return instrumentVercelAi(exports as Record<string, unknown>, {
    // Up to AI SDK 6 the SDK makes its spans itself, with the tracer provider the preload registered.
    tracer: trace.getTracer('otel-mlflow'),
    captureContent: preloadSettings(process.env)?.captureContent ?? true,
  });
}
