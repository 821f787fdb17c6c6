// A program with an OpenTelemetry set-up of its own that exports over OTLP/gRPC, as Go's
// otlptracegrpc and Rust's tonic exporter do whatever OTEL_EXPORTER_OTLP_PROTOCOL says: configured
// only by the endpoint `otel-mlflow run` gives it. One request span with one LLM call under it.
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] });
const tracer = provider.getTracer('grpc-app');
const request = tracer.startSpan('grpc-request');
const llm = tracer.startSpan('chat gpt-4o-mini', {}, trace.setSpan(ROOT_CONTEXT, request));
llm.setAttribute('gen_ai.operation.name', 'chat');
llm.setAttribute('gen_ai.request.model', 'gpt-4o-mini');
llm.setAttribute('gen_ai.usage.input_tokens', 11);
llm.setAttribute('gen_ai.usage.output_tokens', 7);
llm.end();
request.end();
await provider.shutdown();
console.log('exported');
