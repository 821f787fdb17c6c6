// A program with an OpenTelemetry set-up of its own for all three signals, configured only by the
// standard variables, as a Python, Java or Go service is: one span, one counter, one log record,
// each through the stock OTLP/HTTP exporter, all exported before it exits.
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter() })] });
const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })] });
const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter() })] });

tracerProvider.getTracer('signals-app').startSpan('signals-request').end();
meterProvider.getMeter('signals-app').createCounter('requests').add(1);
loggerProvider.getLogger('signals-app').emit({ body: 'answered one request' });

await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
console.log('exported');
