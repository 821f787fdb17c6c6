/**
 * Loaded into the program by `otel-mlflow run` with `--require`, ahead of any code of the program's
 * and of the preload itself (an ES module: `--import` runs after every `--require`). It makes
 * OpenTelemetry's process-wide API slot the tool's API version's, as a first registration does, and
 * takes the slot's tracer provider for the preload.
 *
 * The API's copies share one slot, stamped with the version of the copy that registered first; a
 * copy only registers into a slot of its own version, and only reads one of its own minor version or
 * newer. A program that registers anything through an older API first (the set-up OpenTelemetry JS
 * documents, `node --require ./instrumentation.js app.js`, or only a diag logger) would leave the
 * tool's newer API no slot it reads: no context, and every LLM call a trace of its own, apart from its
 * request. Claimed first, the slot is the tool's, and the program's older API reads it too.
 *
 * A program's set-up through an API as new as the tool's would still register its own tracer
 * provider first, and its HTTP instrumentation would make each request's server span through it,
 * where the preload cannot take it as the request's span (see http-server-spans.ts): a second trace
 * per request, batched for seconds. So where the preload traces, the slot's provider is one that
 * hands every tracer over to the preload's provider once it is made; the program's own registration
 * then gives way, as the API lets only the first one stand.
 */
const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
const { registerHooks } = require('node:module') as { registerHooks?: unknown };
const { isInternalThread, isMainThread } = require('node:worker_threads') as typeof import('node:worker_threads');

const SLOT = Symbol.for('opentelemetry.js.api.1');
/** Where the preload finds the provider to hand its own to (see preload.ts). */
const DEFERRED_PROVIDER = Symbol.for('otel-mlflow.deferred-tracer-provider');
/** The threads the preload traces, as preload.ts decides. */
const traced = isMainThread || (typeof registerHooks === 'function' && !isInternalThread);

if ((globalThis as Record<symbol, unknown>)[SLOT] === undefined) {
  if (traced) {
    const deferred = new api.ProxyTracerProvider();
    api.trace.setGlobalTracerProvider(deferred);
    (globalThis as Record<symbol, unknown>)[DEFERRED_PROVIDER] = deferred;
  } else {
    // A registration makes the slot; the logger goes again at once, so the program may set its own.
    const silent = () => undefined;
    api.diag.setLogger({ verbose: silent, debug: silent, info: silent, warn: silent, error: silent });
    api.diag.disable();
  }
}
