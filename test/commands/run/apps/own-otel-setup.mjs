// A program's own OpenTelemetry set-up, loaded before its code with `node --import`, as OpenTelemetry
// JS documents for an ES module app: the stock SDK, exporting to OTEL_EXPORTER_OTLP_ENDPOINT, and the
// contrib HTTP instrumentation, which patches node:http through the loader hook after the tool's preload.
// Its instrumentation makes spans through the global provider, as NodeSDK's do: under run, the tool's,
// which was registered first.
import { register } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
process.once('SIGTERM', () => provider.shutdown());
