// A program's own OpenTelemetry set-up, required before its code (`node --require`), as OpenTelemetry
// JS documents for a CommonJS app, through an @opentelemetry/api as new as the tool's: the stock SDK
// registered as the global provider, exporting to OTEL_EXPORTER_OTLP_ENDPOINT, and the contrib HTTP
// instrumentation, which patches node:http as the program requires it, after the tool's preload.
const { context, propagation, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { BatchSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');

const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
process.once('SIGTERM', () => provider.shutdown());
