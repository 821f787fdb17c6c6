import { MlflowTelemetry, type VercelAiTelemetryOptions } from './mlflow-telemetry.ts';

/** Set on globalThis once registered: the SDK's registry is global too, shared by every copy of `ai` in the process. */
const REGISTERED = Symbol.for('otel-mlflow.vercel-ai.telemetry');

/**
 * Traces every AI SDK call of the program, given the `ai` module's exports: AI SDK 7 emits telemetry
 * for every call once an integration is registered (a call opts out with `telemetry: {isEnabled:
 * false}`, which this respects), so registering {@link MlflowTelemetry} is all it takes — the
 * exports themselves stay as they are. Calls made before it was registered are not traced. Older
 * majors, which have no `registerTelemetry`, are left alone: answers whether it registered.
 */
export function instrumentVercelAi(ai: unknown, options: VercelAiTelemetryOptions): boolean {
  const register = typeof ai === 'object' && ai !== null ? (ai as { registerTelemetry?: unknown }).registerTelemetry : undefined;
  if (typeof register !== 'function') return false;
  const global = globalThis as { [REGISTERED]?: true };
  if (global[REGISTERED]) return true;
  register(new MlflowTelemetry(options));
  global[REGISTERED] = true;
  return true;
}
