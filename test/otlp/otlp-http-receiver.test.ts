import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { gzipOfZeros } from '../fakes/gzip-bomb.ts';
import type { Listening } from '../fakes/listen.ts';
import { otlpJson, otlpProtobuf, readableSpan } from '../fakes/readable-spans.ts';
import {
  listenOtlpHttp,
  pb,
  rawRequest,
  readRpcStatus,
  recordingIngest,
  type RawAnswer,
  type RecordingIngest,
} from './receivers-fixture.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const ROOT = 'b7ad6b7169203331';
const CHILD = '00f067aa0ba902b7';
const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };
const LIMIT = 4 * 1024 * 1024;

const twoSpans = [
  readableSpan({ traceId: TRACE, spanId: ROOT, name: 'root', attributes: { 'gen_ai.request.model': 'gpt-4o' } }),
  readableSpan({ traceId: TRACE, spanId: CHILD, parentSpanId: ROOT, name: 'child' }),
];

function parsedJson(answer: RawAnswer): unknown {
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  return JSON.parse(answer.body.toString('utf8'));
}

function protobufStatus(answer: RawAnswer): ReturnType<typeof readRpcStatus> {
  assert.equal(answer.headers['content-type'], 'application/x-protobuf');
  return readRpcStatus(answer.body);
}

describe('OTLP/HTTP receiver', () => {
  let recorder: RecordingIngest;
  let server: Listening;
  let url: string;
  const post = (headers: Record<string, string>, body?: Buffer) => rawRequest(url, { headers, ...(body && { body }) });

  before(async () => {
    recorder = recordingIngest();
    server = await listenOtlpHttp({ ingest: recorder.ingest, maxBodyBytes: LIMIT });
    url = `${server.url}/v1/traces`;
  });
  after(() => server.close());
  beforeEach(() => {
    recorder.batches.length = 0;
    recorder.answer = () => ({ kind: 'accepted' });
  });

  describe('accepting', () => {
    it('answers a protobuf request with an empty protobuf ExportTraceServiceResponse and hands the spans over', async () => {
      const answer = await post({ ...PROTOBUF, 'x-mlflow-experiment-id': '7' }, otlpProtobuf(twoSpans));
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'application/x-protobuf');
      assert.equal(answer.body.length, 0);
      assert.equal(recorder.batches.length, 1);
      const [batch] = recorder.batches;
      assert.equal(batch?.transport, 'http');
      assert.equal(batch?.headers['x-mlflow-experiment-id'], '7');
      assert.deepEqual(
        batch?.spans.map((span) => [span.traceId, span.spanId, span.parentSpanId, span.name]),
        [
          [TRACE, ROOT, null, 'root'],
          [TRACE, CHILD, ROOT, 'child'],
        ],
      );
    });

    it('answers a JSON request (charset parameter and all) in JSON', async () => {
      const answer = await post({ 'content-type': 'application/json; charset=utf-8' }, otlpJson(twoSpans));
      assert.equal(answer.status, 200);
      assert.deepEqual(parsedJson(answer), {});
      assert.equal(recorder.batches[0]?.spans.length, 2);
    });

    it('inflates gzip and deflate (zlib-wrapped or raw) bodies', async () => {
      const body = otlpProtobuf(twoSpans);
      for (const [encoding, compressed] of [
        ['gzip', gzipSync(body)],
        ['deflate', deflateSync(body)],
        ['deflate', deflateRawSync(body)],
      ] as const) {
        const answer = await post({ ...PROTOBUF, 'content-encoding': encoding }, compressed);
        assert.equal(answer.status, 200, encoding);
      }
      assert.equal(recorder.batches.length, 3);
    });

    it('accepts an empty protobuf body as an empty request, without calling the ingest', async () => {
      const answer = await post(PROTOBUF, Buffer.alloc(0));
      assert.equal(answer.status, 200);
      assert.equal(recorder.batches.length, 0);
    });

    it('ignores fields it does not know, in protobuf and in JSON', async () => {
      const unknownField = Buffer.from([0x98, 0x06, 0x01]); // field 99, varint 1
      const protobufAnswer = await post(PROTOBUF, Buffer.concat([otlpProtobuf(twoSpans), unknownField]));
      assert.equal(protobufAnswer.status, 200);
      const json = JSON.parse(otlpJson(twoSpans).toString('utf8')) as {
        resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
      };
      json.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.futureField = { nested: [1, 2] };
      const jsonAnswer = await post(JSON_TYPE, Buffer.from(JSON.stringify({ ...json, somethingNew: true })));
      assert.equal(jsonAnswer.status, 200);
      assert.deepEqual(
        recorder.batches.map((batch) => batch.spans.length),
        [2, 2],
      );
    });

    it('reports a span with an empty span id as partial success and keeps the valid one (protobuf)', async () => {
      const spans = [twoSpans[0]!, readableSpan({ traceId: TRACE, spanId: '', name: 'no id' })];
      const answer = await post(PROTOBUF, otlpProtobuf(spans));
      assert.equal(answer.status, 200);
      const response = ProtobufTraceSerializer.deserializeResponse(answer.body);
      assert.equal(Number(response.partialSuccess?.rejectedSpans), 1);
      assert.match(response.partialSuccess?.errorMessage ?? '', /span id must be 8 bytes/);
      assert.deepEqual(
        recorder.batches.flatMap((batch) => batch.spans.map((span) => span.name)),
        ['root'],
      );
    });

    it('reports partial success in JSON for a JSON request', async () => {
      const spans = [twoSpans[0]!, readableSpan({ traceId: '0'.repeat(32), spanId: CHILD, name: 'zero trace id' })];
      const answer = await post(JSON_TYPE, otlpJson(spans));
      assert.equal(answer.status, 200);
      assert.deepEqual(parsedJson(answer), {
        partialSuccess: { rejectedSpans: '1', errorMessage: '1 span(s) rejected: trace id must be 16 bytes, not all zero' },
      });
    });

    it('keeps every span when a protobuf string is not valid UTF-8: the value repaired with U+FFFD, the client warned in partial success', async () => {
      // A prompt cut in the middle of an emoji: the first two of its four bytes.
      const spans = [
        readableSpan({ traceId: TRACE, spanId: ROOT, name: 'root', attributes: { 'gen_ai.prompt': 'smile ~~' } }),
        twoSpans[1]!,
      ];
      const answer = await post(PROTOBUF, pb.replaced(otlpProtobuf(spans), '~~', [0xf0, 0x9f], 'smile ~~'));
      assert.equal(answer.status, 200);
      const response = ProtobufTraceSerializer.deserializeResponse(answer.body);
      assert.equal(Number(response.partialSuccess?.rejectedSpans ?? 0), 0, 'nothing rejected (protobuf leaves a zero out)');
      assert.equal(
        response.partialSuccess?.errorMessage,
        "1 string value was not valid UTF-8 and was repaired with U+FFFD (span 'root', attribute 'gen_ai.prompt')",
      );
      const [batch] = recorder.batches;
      assert.deepEqual(
        batch?.spans.map((span) => span.name),
        ['root', 'child'],
      );
      assert.equal(batch?.spans[0]?.attributes['gen_ai.prompt'], 'smile \uFFFD');
      assert.equal(batch?.repairedStrings, 1);
    });

    it('keeps a JSON body that is not valid UTF-8 inside a string, and warns that the body was repaired', async () => {
      const spans = [readableSpan({ traceId: TRACE, spanId: ROOT, name: 'root', attributes: { 'gen_ai.prompt': 'smile ~~' } })];
      const answer = await post(JSON_TYPE, pb.replaced(otlpJson(spans), '~~', [0xf0, 0x9f], 'smile ~~'));
      assert.equal(answer.status, 200);
      assert.deepEqual(parsedJson(answer), {
        partialSuccess: {
          rejectedSpans: '0',
          errorMessage: '1 string value was not valid UTF-8 and was repaired with U+FFFD (the JSON body)',
        },
      });
      assert.equal(recorder.batches[0]?.spans[0]?.attributes['gen_ai.prompt'], 'smile \uFFFD');
    });

    it('leaves other paths to the caller', async () => {
      const answer = await rawRequest(`${server.url}/`, { method: 'GET' });
      assert.equal(answer.status, 404);
      assert.equal(answer.body.toString(), 'not found');
    });
  });

  describe('refusing', () => {
    it('answers undecodable protobuf with 400 and a protobuf google.rpc.Status', async () => {
      const truncated = otlpProtobuf(twoSpans).subarray(0, 40);
      const answer = await post(PROTOBUF, truncated);
      assert.equal(answer.status, 400);
      const status = protobufStatus(answer);
      assert.equal(status.code, 3);
      assert.match(status.message, /could not decode/);
      assert.equal(recorder.batches.length, 0);
    });

    it('answers malformed JSON with 400 and a JSON Status', async () => {
      const answer = await post(JSON_TYPE, Buffer.from('{"resourceSpans": [ {'));
      assert.equal(answer.status, 400);
      assert.deepEqual(Object.keys(parsedJson(answer) as object), ['code', 'message']);
      assert.equal((parsedJson(answer) as { code: number }).code, 3);
    });

    it('answers an empty JSON body with 400', async () => {
      assert.equal((await post(JSON_TYPE, Buffer.alloc(0))).status, 400);
    });

    it('answers JSON of the wrong shape with 400, never a crash', async () => {
      const bodies = [
        '[]',
        '"text"',
        '{"resourceSpans": {}}',
        '{"resourceSpans": [{"scopeSpans": [{"spans": {"name": "x"}}]}]}',
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "not hex"}]}]}]}',
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 42}]}]}]}',
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": [{"key": "k", "value": {"intValue": "12x"}}]}]}]}]}',
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": "SPAN_KIND_SIDEWAYS"}]}]}]}',
        `{"resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": ${'{"arrayValue": {"values": ['.repeat(100_000)}${']}}'.repeat(100_000)}}]}}]}`,
      ];
      for (const body of bodies) {
        const answer = await post(JSON_TYPE, Buffer.from(body));
        assert.equal(answer.status, 400, body.slice(0, 80));
      }
      assert.equal(recorder.batches.length, 0);
    });

    it('treats JSON nulls as absent values', async () => {
      const body = '{"resourceSpans": [null, {"resource": null, "scopeSpans": [{"scope": null, "spans": [null]}]}]}';
      const answer = await post(JSON_TYPE, Buffer.from(body));
      assert.equal(answer.status, 200);
      assert.equal((parsedJson(answer) as { partialSuccess: { rejectedSpans: string } }).partialSuccess.rejectedSpans, '1');
    });

    it('answers hostile protobuf (wrong wire types, deep nesting, truncated lengths) with 400', async () => {
      const bodies: Buffer[] = [
        Buffer.from([0x0d, 0x01, 0x02]), // field 1 as fixed32, cut short
        Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a length far beyond the body
        Buffer.from([0x0f]), // wire type 7 does not exist
        pb.resourceAttribute(pb.nestedArrays(100_000)), // deep enough to overflow a recursive decoder's stack
        pb.resourceAttribute(pb.nestedArrays(60)), // past the receiver's own bound
      ];
      for (const body of bodies) {
        const answer = await post(PROTOBUF, body);
        assert.equal(answer.status, 400, body.subarray(0, 8).toString('hex'));
        assert.equal(protobufStatus(answer).code, 3);
      }
    });

    it('answers other media types with 415', async () => {
      const answer = await post({ 'content-type': 'text/plain' }, Buffer.from('hello'));
      assert.equal(answer.status, 415);
      assert.match((parsedJson(answer) as { message: string }).message, /application\/x-protobuf or application\/json/);
    });

    it('answers an unknown Content-Encoding with 415', async () => {
      for (const contentEncoding of ['br', 'constructor', 'gzip, br']) {
        const answer = await post({ ...PROTOBUF, 'content-encoding': contentEncoding }, otlpProtobuf(twoSpans));
        assert.equal(answer.status, 415, contentEncoding);
        assert.match(protobufStatus(answer).message, /unsupported Content-Encoding/);
      }
      assert.equal(recorder.batches.length, 0);
    });

    it('answers a corrupt gzip body with 400', async () => {
      const answer = await post({ ...PROTOBUF, 'content-encoding': 'gzip' }, Buffer.from('not gzip at all'));
      assert.equal(answer.status, 400);
      assert.match(protobufStatus(answer).message, /decompress/);
    });

    it('answers other methods with 405 and Allow: POST', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const answer = await rawRequest(url, { method });
        assert.equal(answer.status, 405, method);
        assert.equal(answer.headers.allow, 'POST');
      }
    });

    it('answers a body over the limit with 413, declared or streamed', async () => {
      const big = Buffer.alloc(LIMIT + 1, 0x41);
      const declared = await post(PROTOBUF, big);
      assert.equal(declared.status, 413);
      assert.match(protobufStatus(declared).message, /over 4194304 bytes/);
      const streamed = await rawRequest(url, { headers: { ...PROTOBUF, 'transfer-encoding': 'chunked' }, body: big });
      assert.equal(streamed.status, 413);
      assert.equal(recorder.batches.length, 0);
    });

    it('answers a body that inflates beyond the limit with 413', async () => {
      const answer = await post({ ...PROTOBUF, 'content-encoding': 'gzip' }, gzipOfZeros(LIMIT * 16));
      assert.equal(answer.status, 413);
      assert.match(protobufStatus(answer).message, /over 4194304 bytes/);
    });
  });

  describe('pushing back', () => {
    it('answers busy with 429 and Retry-After', async () => {
      recorder.answer = () => ({ kind: 'busy', retryAfterSeconds: 6.2, message: 'the store is full' });
      const answer = await post(PROTOBUF, otlpProtobuf(twoSpans));
      assert.equal(answer.status, 429);
      assert.equal(answer.headers['retry-after'], '7');
      assert.deepEqual(protobufStatus(answer), { code: 8, message: 'the store is full' });
    });

    it('answers unavailable with 503 and Retry-After, in JSON for JSON', async () => {
      recorder.answer = () => ({ kind: 'unavailable', retryAfterSeconds: 30, message: 'shutting down' });
      const answer = await post(JSON_TYPE, otlpJson(twoSpans));
      assert.equal(answer.status, 503);
      assert.equal(answer.headers['retry-after'], '30');
      assert.deepEqual(parsedJson(answer), { code: 14, message: 'shutting down' });
    });

    it('answers a batch the ingest rejects with 400 and its reason', async () => {
      recorder.answer = () => ({ kind: 'rejected', message: 'no experiment for service "x"' });
      const answer = await post(PROTOBUF, otlpProtobuf(twoSpans));
      assert.equal(answer.status, 400);
      assert.deepEqual(protobufStatus(answer), { code: 3, message: 'no experiment for service "x"' });
    });

    it('answers a failing ingest with 500 and no detail of the failure', async () => {
      recorder.answer = () => {
        throw new Error('disk on fire at /var/secret/path');
      };
      const answer = await post(JSON_TYPE, otlpJson(twoSpans));
      assert.equal(answer.status, 500);
      const body = answer.body.toString('utf8');
      assert.doesNotMatch(body, /fire|secret|at /);
      assert.deepEqual(parsedJson(answer), { code: 13, message: 'internal error while storing the spans' });
      assert.equal((await post(PROTOBUF, otlpProtobuf(twoSpans))).status, 500, 'and keeps serving');
    });
  });
});

describe('OTLP/HTTP receiver with the default size limit', () => {
  let server: Listening;
  before(async () => {
    server = await listenOtlpHttp({ ingest: recordingIngest().ingest });
  });
  after(() => server.close());

  it('answers a gzip bomb (1 GiB of zeros in 1 MiB) with 413 without inflating it all', async () => {
    const bomb = gzipOfZeros(1024 ** 3);
    assert.ok(bomb.length < 16 * 1024 ** 2, 'the compressed body itself is within the limit');
    const rssBefore = process.memoryUsage.rss();
    const answer = await rawRequest(`${server.url}/v1/traces`, { headers: { ...PROTOBUF, 'content-encoding': 'gzip' }, body: bomb });
    assert.equal(answer.status, 413);
    assert.ok(process.memoryUsage.rss() - rssBefore < 256 * 1024 ** 2, 'memory stays far below the inflated size');
  });
});

describe('OTLP/HTTP receiver with a bearer token', () => {
  let server: Listening;
  let recorder: RecordingIngest;
  before(async () => {
    recorder = recordingIngest();
    server = await listenOtlpHttp({ ingest: recorder.ingest, token: 's3cret-token' });
  });
  after(() => server.close());

  it('answers a missing or wrong token with 401 and WWW-Authenticate: Bearer, without the token', async () => {
    for (const authorization of [undefined, 'Bearer wrong', 'Basic czNjcmV0LXRva2Vu', 's3cret-token']) {
      const headers = { ...PROTOBUF, ...(authorization && { authorization }) };
      const answer = await rawRequest(`${server.url}/v1/traces`, { headers, body: otlpProtobuf(twoSpans) });
      assert.equal(answer.status, 401, String(authorization));
      assert.equal(answer.headers['www-authenticate'], 'Bearer');
      assert.equal(protobufStatus(answer).code, 16);
      assert.doesNotMatch(answer.body.toString('latin1'), /s3cret/);
    }
    assert.equal(recorder.batches.length, 0);
  });

  it('accepts the right token, and does not pass it on', async () => {
    const answer = await rawRequest(`${server.url}/v1/traces`, {
      headers: { ...PROTOBUF, authorization: 'Bearer s3cret-token' },
      body: otlpProtobuf(twoSpans),
    });
    assert.equal(answer.status, 200);
    assert.equal(recorder.batches[0]?.headers.authorization, undefined);
  });
});
