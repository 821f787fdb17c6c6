import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../../src/otlp/otlp-grpc-receiver.ts';
import type { LocalSpan } from '../../src/spans/local-span.ts';
import type { Listening } from '../fakes/listen.ts';
import { listenOtlpHttp, recordingIngest, type RecordingIngest } from './receivers-fixture.ts';

/**
 * An app that knows nothing of otel-mlflow: stock SDK, stock exporters, a BatchSpanProcessor that
 * splits one trace over several export requests. Only the result recorder is ours.
 */

const TOKEN = 'relay-secret';
const SPANS_PER_REQUEST = 2;

type ExporterName = 'protobuf' | 'json' | 'grpc';

function stockExporter(name: ExporterName, endpoint: string, gzip: boolean): SpanExporter {
  // Each exporter takes the CompressionAlgorithm enum of its own copy of otlp-exporter-base.
  const compression = (gzip ? { compression: 'gzip' } : {}) as { compression?: never };
  const headers = { 'x-mlflow-experiment-id': '42', authorization: `Bearer ${TOKEN}` };
  switch (name) {
    case 'protobuf':
      return new ProtobufExporter({ url: `${endpoint}/v1/traces`, headers, ...compression });
    case 'json':
      return new JsonExporter({ url: `${endpoint}/v1/traces`, headers, ...compression });
    case 'grpc':
      // Metadata (headers, token) for gRPC: see the last test.
      return new GrpcExporter({ url: endpoint, ...compression });
  }
}

function recordingResults(exporter: SpanExporter, results: ExportResult[]): SpanExporter {
  return {
    export: (spans, done) =>
      exporter.export(spans, (result) => {
        results.push(result);
        done(result);
      }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** A small agent-like trace: a root, an LLM call with an event and arrays, a failing tool call, a nested step. */
async function runApp(exporter: SpanExporter): Promise<{ sent: ReadableSpan[]; results: ExportResult[] }> {
  const results: ExportResult[] = [];
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout-agent', 'service.version': '1.2.3' }),
    spanProcessors: [
      new SimpleSpanProcessor({ exporter: memory }),
      new BatchSpanProcessor({ exporter: recordingResults(exporter, results), maxExportBatchSize: SPANS_PER_REQUEST }),
    ],
  });
  const tracer = provider.getTracer('stock-app', '0.9.0');
  const root = tracer.startSpan('agent-turn', {
    kind: SpanKind.SERVER,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'app.retries': 0 },
  });
  const rootContext = trace.setSpan(context.active(), root);
  const llm = tracer.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 12,
        'gen_ai.request.temperature': 0.25,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
        'app.token_ids': [1, 2, 3],
        'app.flags': [true, false],
      },
    },
    rootContext,
  );
  llm.addEvent('gen_ai.user.message', { 'gen_ai.event.content': '{"role":"user","content":"hi"}' });
  llm.setStatus({ code: SpanStatusCode.OK });
  llm.end();
  const tool = tracer.startSpan('tool calculator', { attributes: { 'gen_ai.tool.name': 'calculator' } }, rootContext);
  const step = tracer.startSpan('parse expression', {}, trace.setSpan(rootContext, tool));
  step.end();
  tool.recordException(new Error('division by zero'));
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'division by zero' });
  tool.end();
  const retry = tracer.startSpan('retry', {}, rootContext);
  retry.end();
  root.end();
  await provider.forceFlush();
  const sent = memory.getFinishedSpans();
  await provider.shutdown();
  return { sent, results };
}

function byId(spans: LocalSpan[]): Map<string, LocalSpan> {
  return new Map(spans.map((span) => [span.spanId, span]));
}

function assertReceivedAsSent(received: LocalSpan[], sent: ReadableSpan[]): void {
  const got = byId(received);
  assert.equal(got.size, sent.length, 'every span arrives, once');
  for (const span of sent) {
    const local = got.get(span.spanContext().spanId);
    assert.ok(local, `span ${span.name} arrived`);
    assert.equal(local.traceId, span.spanContext().traceId);
    assert.equal(local.parentSpanId, span.parentSpanContext?.spanId ?? null);
    assert.equal(local.name, span.name);
    assert.equal(local.kind, span.kind);
    assert.deepEqual(local.attributes, span.attributes);
    assert.deepEqual(
      local.events.map((event) => [event.name, event.attributes]),
      span.events.map((event) => [event.name, event.attributes ?? {}]),
    );
    assert.equal(local.status.code, span.status.code);
    assert.equal(local.status.message, span.status.message);
    assert.equal(local.resource['service.name'], 'checkout-agent');
    assert.deepEqual(local.scope, { name: 'stock-app', version: '0.9.0' });
    assert.equal(BigInt(local.endTimeUnixNano) >= BigInt(local.startTimeUnixNano), true);
  }
}

function assertExportsSucceeded(results: ExportResult[], sent: ReadableSpan[]): void {
  assert.equal(results.length, Math.ceil(sent.length / SPANS_PER_REQUEST), 'one trace over several requests');
  assert.deepEqual(
    results.map((result) => [result.code, result.error?.message]),
    results.map(() => [ExportResultCode.SUCCESS, undefined]),
  );
}

describe('stock OpenTelemetry exporters pointed at the receivers', () => {
  let recorder: RecordingIngest;
  let http: Listening;
  let grpc: OtlpGrpcReceiver;
  let grpcWithToken: OtlpGrpcReceiver;

  before(async () => {
    recorder = recordingIngest();
    http = await listenOtlpHttp({ ingest: recorder.ingest, token: TOKEN });
    grpc = await startOtlpGrpcReceiver({ ingest: recorder.ingest, host: '127.0.0.1', port: 0 });
    grpcWithToken = await startOtlpGrpcReceiver({ ingest: recorder.ingest, host: '127.0.0.1', port: 0, token: TOKEN });
  });
  after(async () => {
    await http.close();
    await grpc.close();
    await grpcWithToken.close();
  });

  for (const name of ['protobuf', 'json', 'grpc'] as const) {
    for (const gzip of [false, true]) {
      it(`${name}${gzip ? ' with gzip' : ''}: every span arrives whole and the exporter reports success`, async () => {
        recorder.batches.length = 0;
        const endpoint = name === 'grpc' ? `http://127.0.0.1:${grpc.port}` : http.url;
        const { sent, results } = await runApp(stockExporter(name, endpoint, gzip));
        assert.equal(sent.length, 5);
        assertExportsSucceeded(results, sent);
        assert.equal(recorder.batches.length, results.length);
        assert.ok(recorder.batches.every((batch) => batch.transport === (name === 'grpc' ? 'grpc' : 'http')));
        assertReceivedAsSent(
          recorder.batches.flatMap((batch) => batch.spans),
          sent,
        );
        // grpc-js takes grpc-encoding off the metadata it hands on; the gRPC test shows gzip is inflated.
        if (name !== 'grpc') {
          assert.deepEqual(
            new Set(recorder.batches.map((batch) => batch.headers['content-encoding'] ?? 'identity')),
            new Set([gzip ? 'gzip' : 'identity']),
          );
          assert.ok(recorder.batches.every((batch) => batch.headers['x-mlflow-experiment-id'] === '42'));
          assert.ok(
            recorder.batches.every((batch) => !('authorization' in batch.headers)),
            'the credential is not passed on',
          );
        }
      });
    }
  }

  for (const [name, kind] of [
    ['protobuf', 'busy'],
    ['json', 'unavailable'],
  ] as const) {
    it(`${name}: an exporter told ${kind} retries after Retry-After, and every span is accepted once`, async () => {
      recorder.batches.length = 0;
      const accepted: string[] = [];
      let pushedBack = 0;
      recorder.answer = (batch) => {
        if (pushedBack === 0) {
          pushedBack += 1;
          return { kind, retryAfterSeconds: 0.2, message: 'try again' };
        }
        accepted.push(...batch.spans.map((span) => span.spanId));
        return { kind: 'accepted' };
      };
      try {
        const { sent, results } = await runApp(stockExporter(name, http.url, false));
        assertExportsSucceeded(results, sent);
        assert.equal(pushedBack, 1);
        assert.deepEqual(accepted.toSorted(), sent.map((span) => span.spanContext().spanId).toSorted());
      } finally {
        recorder.answer = () => ({ kind: 'accepted' });
      }
    });
  }

  it('grpc with metadata: the bearer token is checked and the routing header reaches the ingest', async () => {
    recorder.batches.length = 0;
    const { Metadata } = await import('@grpc/grpc-js');
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${TOKEN}`);
    metadata.set('x-mlflow-experiment-id', '42');
    const exporter = new GrpcExporter({ url: `http://127.0.0.1:${grpcWithToken.port}`, metadata });
    const { sent, results } = await runApp(exporter);
    assertExportsSucceeded(results, sent);
    assertReceivedAsSent(
      recorder.batches.flatMap((batch) => batch.spans),
      sent,
    );
    assert.ok(recorder.batches.every((batch) => batch.headers['x-mlflow-experiment-id'] === '42'));
    assert.ok(recorder.batches.every((batch) => !('authorization' in batch.headers)));
  });
});
