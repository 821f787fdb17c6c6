/**
 * OTLP protobuf decoding, as the relay and `run` decode every request they receive: the hand-written
 * decoder against the protobufjs-based one it replaced (kept in the tests as their reference), in CPU
 * time, the process's GC threads included (protobufjs's message objects were much of its cost).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeOtlpProtobuf } from '../src/otlp/otlp-decode.ts';
import { encodeSpans } from '../src/otlp/otlp-encode.ts';
import { protobufjsDecode } from '../test/otlp/protobufjs-decode.ts';
import { median, type Row } from './stats.ts';

const ROUNDS = 5;

/** An LLM app's request as the tool receives it: an HTTP server span and a chat span with a ~2.5 KB prompt and ~1 KB answer. */
function appSpans(traces: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const tracer = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'rag-app', 'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.version': '2.2.0' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  }).getTracer('otel-mlflow', '0.1.0');
  const prompt = JSON.stringify({
    messages: [
      {
        role: 'system',
        content: `Answer from the context only.\n\nContext:\n${'MLflow Tracing records each step of an LLM app as a span. '.repeat(40)}`,
      },
      { role: 'user', content: 'How does MLflow show the steps of my agent?' },
    ],
  });
  const answer = JSON.stringify({ role: 'assistant', content: 'Each step is a span in the trace. '.repeat(28) });
  for (let i = 0; i < traces; i++) {
    tracer.startActiveSpan(
      'POST /ask',
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': 'POST', 'url.path': '/ask', 'http.route': '/ask', 'server.port': 3000 },
      },
      (server) => {
        const chat = tracer.startSpan('chat gpt-4o-mini', {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.system': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 520,
            'gen_ai.usage.output_tokens': 160,
            'mlflow.spanType': 'CHAT_MODEL',
            'mlflow.spanInputs': prompt,
            'mlflow.spanOutputs': answer,
          },
        });
        chat.setStatus({ code: SpanStatusCode.OK });
        chat.end();
        server.setAttribute('http.response.status_code', 200);
        server.end();
      },
    );
  }
  return exporter.getFinishedSpans();
}

/** CPU µs (this process's, its GC threads' included) per decode, after warming up. */
function cpuPerDecode(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array, runs: number): number {
  for (let i = 0; i < Math.max(50, runs / 10); i++) decode(bytes);
  const started = process.cpuUsage();
  for (let i = 0; i < runs; i++) decode(bytes);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / runs;
}

/** CPU per decode of the same requests by the hand-written decoder and by protobufjs's, in alternating rounds. */
export function benchOtlpDecode(): Row[] {
  const requests = [
    { name: '2 spans', bytes: encodeSpans(appSpans(1)), runs: 20_000 },
    { name: '500 spans', bytes: encodeSpans(appSpans(250)), runs: 100 },
  ];
  return requests.map(({ name, bytes, runs }) => {
    const handWritten: number[] = [];
    const protobufjs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      handWritten.push(cpuPerDecode(decodeOtlpProtobuf, bytes, runs));
      protobufjs.push(cpuPerDecode(protobufjsDecode, bytes, runs));
    }
    const [ours, theirs] = [median(handWritten), median(protobufjs)];
    return {
      name: `OTLP decode of ${name} (${kb(bytes.length)}), hand-written / protobufjs, CPU`,
      raw: `${ours.toFixed(1)} µs / ${theirs.toFixed(1)} µs`,
      ratio: ours / theirs,
    };
  });
}

function kb(bytes: number): string {
  return bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}
