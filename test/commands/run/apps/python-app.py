# A Python program with the stock OpenTelemetry SDK and OTLP/HTTP exporter, configured only by the
# standard variables `otel-mlflow run` sets: one request span with one LLM call under it.
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("python-app")

with tracer.start_as_current_span("python-request"):
    with tracer.start_as_current_span("chat gpt-4o-mini") as llm:
        llm.set_attribute("gen_ai.operation.name", "chat")
        llm.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        llm.set_attribute("gen_ai.usage.input_tokens", 11)
        llm.set_attribute("gen_ai.usage.output_tokens", 7)

provider.shutdown()
