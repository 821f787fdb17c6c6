/**
 * The peer of `otel-mlflow run` in bench/run-program.ts: what a user wires by hand today, loaded with
 * `node --import` into the same unchanged program. The stock OpenTelemetry SDK with its defaults
 * (BatchSpanProcessor, OTLP/HTTP protobuf to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and the contrib
 * HTTP instrumentation, the only one that makes a span here: the OpenAI instrumentation makes none
 * for openai 7, so each request is one HTTP server span.
 */
import { register } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] });
trace.setGlobalTracerProvider(provider);
// The program is ESM: without the instrumentation's loader hook its `import … from 'node:http'` is never
// patched. This is the hook OpenTelemetry documents, although Node 26 calls module.register deprecated.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
// The batch timer does not keep the program alive: what is still queued when it stops is sent first.
process.once('beforeExit', () => {
  provider.shutdown().catch((error: unknown) => console.error('stock OpenTelemetry SDK: spans not exported at exit:', error));
});
