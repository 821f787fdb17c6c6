import { MlflowTelemetry, type VercelAiTelemetryOptions } from './mlflow-telemetry.ts';

/** Set on globalThis once registered: the SDK's registry is global too, shared by every copy of `ai` in the process. */
const REGISTERED = Symbol.for('otel-mlflow.vercel-ai.telemetry');

/** The calls that take `experimental_telemetry` up to AI SDK 6, and the agents whose settings pass it to their calls. */
const TELEMETRY_FUNCTIONS = ['generateText', 'streamText', 'generateObject', 'streamObject', 'embed', 'embedMany', 'rerank'] as const;
const TELEMETRY_AGENTS = ['ToolLoopAgent', 'Experimental_Agent'] as const;

/**
 * Traces every AI SDK call of the program, given the `ai` module's exports; answers the exports to
 * use in their place.
 *
 * AI SDK 7 reports every call once an integration is registered (a call opts out with `telemetry:
 * {isEnabled: false}`, which is respected): {@link MlflowTelemetry} is registered, once per process,
 * and the exports come back as they were. Calls made before it was registered are not traced.
 *
 * Up to AI SDK 6 the SDK makes its own `ai.*` spans, with the global tracer provider, only for calls
 * passing `experimental_telemetry: {isEnabled: true}`: the answer is a copy of the exports whose
 * traced functions turn that on unless the caller set it (and whose agents, subclassed, put it in
 * their settings), and with content capture off switch off `recordInputs` / `recordOutputs`
 * whatever the caller said. Those spans are made MLflow's shape where they are relayed
 * (src/relay/translate/vercel-ai.ts).
 */
export function instrumentVercelAi<T>(ai: T, options: VercelAiTelemetryOptions): T {
  if (typeof ai !== 'object' || ai === null) return ai;
  const exports = ai as Record<string, unknown>;
  if (typeof exports.registerTelemetry === 'function') {
    const global = globalThis as { [REGISTERED]?: true };
    if (!global[REGISTERED]) {
      exports.registerTelemetry(new MlflowTelemetry(options));
      global[REGISTERED] = true;
    }
    return ai;
  }
  const replacements: Record<string, unknown> = {};
  for (const name of TELEMETRY_FUNCTIONS) {
    const original = exports[name];
    if (typeof original !== 'function') continue;
    replacements[name] = function withTelemetry(this: unknown, callOptions: unknown, ...rest: unknown[]): unknown {
      return original.call(this, telemetryOn(callOptions, options.captureContent), ...rest);
    };
  }
  for (const name of TELEMETRY_AGENTS) {
    const Agent = exports[name];
    if (typeof Agent !== 'function') continue;
    replacements[name] = class extends (Agent as new (...args: unknown[]) => object) {
      constructor(settings: unknown, ...rest: unknown[]) {
        super(telemetryOn(settings, options.captureContent), ...rest);
      }
    };
  }
  return Object.keys(replacements).length === 0 ? ai : ({ ...exports, ...replacements } as T);
}

function telemetryOn(callOptions: unknown, captureContent: boolean): unknown {
  if (typeof callOptions !== 'object' || callOptions === null) return callOptions;
  const { experimental_telemetry: set } = callOptions as { experimental_telemetry?: unknown };
  const telemetry = {
    isEnabled: true,
    ...(typeof set === 'object' && set !== null && set),
    ...(!captureContent && { recordInputs: false, recordOutputs: false }),
  };
  return { ...callOptions, experimental_telemetry: telemetry };
}
