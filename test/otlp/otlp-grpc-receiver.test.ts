import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from '../../src/otlp/otlp-grpc-receiver.ts';
import { otlpProtobuf, readableSpan } from '../fakes/readable-spans.ts';
import { exportCall, pb, readRpcStatus, recordingIngest, type RecordingIngest } from './receivers-fixture.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const ROOT = 'b7ad6b7169203331';
const TOKEN = 'grpc-s3cret';
const LIMIT = 64 * 1024;

const oneSpan = [readableSpan({ traceId: TRACE, spanId: ROOT, name: 'root' })];

function statusDetails(error: ServiceError): ReturnType<typeof readRpcStatus> | undefined {
  const details = error.metadata.get('grpc-status-details-bin')[0];
  return Buffer.isBuffer(details) ? readRpcStatus(details) : undefined;
}

describe('OTLP/gRPC receiver', () => {
  let recorder: RecordingIngest;
  let receiver: OtlpGrpcReceiver;

  before(async () => {
    recorder = recordingIngest();
    receiver = await startOtlpGrpcReceiver({ ingest: recorder.ingest, host: '127.0.0.1', port: 0, token: TOKEN, maxMessageBytes: LIMIT });
  });
  after(() => receiver.close());
  beforeEach(() => {
    recorder.batches.length = 0;
    recorder.answer = () => ({ kind: 'accepted' });
  });

  it('stores an Export and answers an empty ExportTraceServiceResponse, passing metadata but not the token', async () => {
    const result = await exportCall(receiver.port, otlpProtobuf(oneSpan), { token: TOKEN, metadata: { 'x-mlflow-experiment-id': '9' } });
    assert.equal(result.error, undefined);
    assert.equal(result.response?.length, 0);
    const [batch] = recorder.batches;
    assert.equal(batch?.transport, 'grpc');
    assert.deepEqual(
      batch?.spans.map((span) => [span.traceId, span.spanId]),
      [[TRACE, ROOT]],
    );
    assert.equal(batch?.headers['x-mlflow-experiment-id'], '9');
    assert.equal(batch?.headers.authorization, undefined);
  });

  it('answers a missing or wrong token with UNAUTHENTICATED', async () => {
    for (const token of [undefined, 'wrong']) {
      const result = await exportCall(receiver.port, otlpProtobuf(oneSpan), token === undefined ? {} : { token });
      assert.equal(result.error?.code, GrpcStatus.UNAUTHENTICATED);
      assert.doesNotMatch(result.error?.details ?? '', /s3cret/);
    }
    assert.equal(recorder.batches.length, 0);
  });

  it('answers an undecodable message with INVALID_ARGUMENT', async () => {
    for (const body of [otlpProtobuf(oneSpan).subarray(0, 30), Buffer.from([0x0f]), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])]) {
      const result = await exportCall(receiver.port, body, { token: TOKEN });
      assert.equal(result.error?.code, GrpcStatus.INVALID_ARGUMENT, body.toString('hex'));
      assert.match(result.error?.details ?? '', /could not decode/);
    }
  });

  it('reports a span with an empty span id as partial success', async () => {
    const spans = [...oneSpan, readableSpan({ traceId: TRACE, spanId: '', name: 'no id' })];
    const result = await exportCall(receiver.port, otlpProtobuf(spans), { token: TOKEN });
    assert.equal(result.error, undefined);
    const response = ProtobufTraceSerializer.deserializeResponse(result.response!);
    assert.equal(Number(response.partialSuccess?.rejectedSpans), 1);
    assert.match(response.partialSuccess?.errorMessage ?? '', /span id must be 8 bytes/);
    assert.equal(recorder.batches[0]?.spans.length, 1);
  });

  it('keeps every span when a string is not valid UTF-8: the value repaired with U+FFFD, the client warned in partial success', async () => {
    const spans = [readableSpan({ traceId: TRACE, spanId: ROOT, name: 'root', attributes: { 'gen_ai.prompt': 'smile ~~' } })];
    const result = await exportCall(receiver.port, pb.replaced(otlpProtobuf(spans), '~~', [0xf0, 0x9f], 'smile ~~'), { token: TOKEN });
    assert.equal(result.error, undefined);
    const response = ProtobufTraceSerializer.deserializeResponse(result.response!);
    assert.equal(Number(response.partialSuccess?.rejectedSpans ?? 0), 0, 'nothing rejected (protobuf leaves a zero out)');
    assert.equal(
      response.partialSuccess?.errorMessage,
      "1 string value was not valid UTF-8 and was repaired with U+FFFD (span 'root', attribute 'gen_ai.prompt')",
    );
    assert.equal(recorder.batches[0]?.spans[0]?.attributes['gen_ai.prompt'], 'smile \uFFFD');
  });

  it('inflates gzip messages', async () => {
    const result = await exportCall(receiver.port, otlpProtobuf(oneSpan), { token: TOKEN, gzip: true });
    assert.equal(result.error, undefined);
    assert.equal(recorder.batches.length, 1);
  });

  it('answers a message over the limit with RESOURCE_EXHAUSTED, also one that only inflates past it', async () => {
    const big = otlpProtobuf([readableSpan({ traceId: TRACE, spanId: ROOT, name: 'big', attributes: { padding: 'x'.repeat(LIMIT) } })]);
    for (const gzip of [false, true]) {
      const result = await exportCall(receiver.port, big, { token: TOKEN, gzip });
      assert.equal(result.error?.code, GrpcStatus.RESOURCE_EXHAUSTED, `gzip: ${gzip}`);
      if (gzip) assert.match(result.error?.details ?? '', /decompresses to a size larger than 65536/);
      assert.equal(statusDetails(result.error!), undefined, 'no RetryInfo: retrying the same message cannot help');
    }
    assert.equal(recorder.batches.length, 0);
  });

  it('answers busy with RESOURCE_EXHAUSTED carrying RetryInfo, the one form the spec lets clients retry', async () => {
    recorder.answer = () => ({ kind: 'busy', retryAfterSeconds: 4, message: 'the store is full' });
    const result = await exportCall(receiver.port, otlpProtobuf(oneSpan), { token: TOKEN });
    assert.equal(result.error?.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(result.error?.details, 'the store is full');
    assert.deepEqual(statusDetails(result.error!), {
      code: GrpcStatus.RESOURCE_EXHAUSTED,
      message: 'the store is full',
      retryDelaySeconds: 4,
    });
  });

  it('answers unavailable with UNAVAILABLE and the delay', async () => {
    recorder.answer = () => ({ kind: 'unavailable', retryAfterSeconds: 15, message: 'shutting down' });
    const result = await exportCall(receiver.port, otlpProtobuf(oneSpan), { token: TOKEN });
    assert.equal(result.error?.code, GrpcStatus.UNAVAILABLE);
    assert.equal(statusDetails(result.error!)?.retryDelaySeconds, 15);
  });

  it('answers a batch the ingest rejects with INVALID_ARGUMENT and its reason', async () => {
    recorder.answer = () => ({ kind: 'rejected', message: 'unknown experiment 12' });
    const result = await exportCall(receiver.port, otlpProtobuf(oneSpan), { token: TOKEN });
    assert.equal(result.error?.code, GrpcStatus.INVALID_ARGUMENT);
    assert.equal(result.error?.details, 'unknown experiment 12');
  });

  it('answers a failing ingest with INTERNAL and no detail of the failure, and keeps serving', async () => {
    recorder.answer = () => {
      throw new Error('disk on fire at /var/secret/path');
    };
    const result = await exportCall(receiver.port, otlpProtobuf(oneSpan), { token: TOKEN });
    assert.equal(result.error?.code, GrpcStatus.INTERNAL);
    assert.equal(result.error?.details, 'internal error while storing the spans');
    recorder.answer = () => ({ kind: 'accepted' });
    assert.equal((await exportCall(receiver.port, otlpProtobuf(oneSpan), { token: TOKEN })).error, undefined);
  });
});

describe('OTLP/gRPC receiver connections', () => {
  it('closes connections that make no call within the idle time, whether they sent nothing, part of the HTTP/2 preface, or all of it', async () => {
    const receiver = await startOtlpGrpcReceiver({ ingest: recordingIngest().ingest, host: '127.0.0.1', port: 0, idleMs: 200 });
    try {
      const closed = ['', 'PRI * HTTP/2.0\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'].map((sent) => {
        const socket = connect(receiver.port, '127.0.0.1', () => socket.write(sent));
        socket.on('error', () => {});
        socket.resume();
        // The deadline only bounds a failure: closing takes the idle time.
        return once(socket, 'close', { signal: AbortSignal.timeout(15_000) });
      });
      await Promise.all(closed);
      assert.equal((await exportCall(receiver.port, otlpProtobuf(oneSpan))).error, undefined, 'and a real client is served');
    } finally {
      await receiver.close();
    }
  });
});

describe('OTLP/gRPC receiver shutdown', () => {
  it('closes, and then refuses connections', async () => {
    const receiver = await startOtlpGrpcReceiver({ ingest: recordingIngest().ingest, host: '127.0.0.1', port: 0 });
    assert.equal((await exportCall(receiver.port, otlpProtobuf(oneSpan))).error, undefined);
    await receiver.close();
    const result = await exportCall(receiver.port, otlpProtobuf(oneSpan));
    assert.equal(result.error?.code, GrpcStatus.UNAVAILABLE);
  });
});
