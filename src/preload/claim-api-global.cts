/**
 * Loaded into the program by `otel-mlflow run` with `--require`, ahead of any code of the program's
 * and of the preload itself (an ES module: `--import` runs after every `--require`). It makes
 * OpenTelemetry's process-wide API slot the tool's API version's, as a first registration does.
 *
 * The API's copies share one slot, stamped with the version of the copy that registered first; a
 * copy only registers into a slot of its own version, and only reads one of its own minor version or
 * newer. A program that registers anything through an older API first (the set-up OpenTelemetry JS
 * documents, `node --require ./instrumentation.js app.js`, or only a diag logger) would leave the
 * tool's newer API no slot it reads: no context, and every LLM call a trace of its own, apart from its
 * request. Claimed first, the slot is the tool's, and the program's older API reads it too.
 */
const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');

const SLOT = Symbol.for('opentelemetry.js.api.1');

if ((globalThis as Record<symbol, unknown>)[SLOT] === undefined) {
  // A registration makes the slot; the logger goes again at once, so the program may set its own.
  const silent = () => undefined;
  api.diag.setLogger({ verbose: silent, debug: silent, info: silent, warn: silent, error: silent });
  api.diag.disable();
}
