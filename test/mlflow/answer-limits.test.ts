import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { createMlflowHttp, DEFAULT_MAX_RESPONSE_BYTES, EXPORT_MAX_RESPONSE_BYTES, type MlflowHttp } from '../../src/mlflow/http.ts';
import { checkHealth } from '../../src/mlflow/server-info.ts';
import { getTraceSpans } from '../../src/mlflow/traces.ts';
import { AnswerTooLargeError } from '../../src/util/bounded-body.ts';
import { startFaultyProxy, type FaultyProxy, type HugeAnswerEnd } from '../fakes/faulty-proxy.ts';
import { rejection } from '../fakes/rejection.ts';
import { answer, startAnswerServer } from './answer-server.ts';
import { closedPortUrl } from '../cli/closed-port.ts';

const GiB = 1024 ** 3;
/**
 * What may be in flight besides what the client read: socket buffers on both ends. The client never
 * holds more than it received, so a server that wrote less than limit + this proves it stopped early.
 */
const IN_FLIGHT_BYTES = 32 * 1024 * 1024;

const tooLarge = (promise: Promise<unknown>) => rejection(promise, AnswerTooLargeError);

async function hugeAnswerEnd(proxy: FaultyProxy): Promise<HugeAnswerEnd> {
  const answered = proxy.requests.at(-1)?.hugeAnswer;
  assert.ok(answered, 'the proxy streamed a huge answer');
  return answered;
}

describe('answers read with a limit', () => {
  let proxy: FaultyProxy;
  let http: MlflowHttp;
  before(async () => {
    // Every request here meets a fault, so nothing is ever forwarded.
    proxy = await startFaultyProxy(await closedPortUrl());
    http = createMlflowHttp({ baseUrl: proxy.url, auth: createAuthProvider({ kind: 'none' }) });
  });
  after(() => proxy.close());
  beforeEach(() => {
    proxy.requests.length = 0;
  });

  it('a gigabyte page on /health fails with the cause after reading at most 8 MiB, and the connection is closed', async () => {
    proxy.mode = { kind: 'huge', status: 200, bytes: GiB, contentType: 'text/html; charset=utf-8' };
    const error = await tooLarge(checkHealth(http));
    assert.equal(
      error.message,
      `${proxy.url} answered GET /health with more than 8 MiB (HTTP 200, text/html): not an answer MLflow gives — is something else listening there?`,
    );
    assert.equal(error.exitCode, ExitCode.unreachable);
    assert.equal(error.status, 200);
    assert.equal(error.limitBytes, DEFAULT_MAX_RESPONSE_BYTES);
    const end = await hugeAnswerEnd(proxy);
    assert.equal(end.complete, false);
    assert.ok(end.bytesWritten < DEFAULT_MAX_RESPONSE_BYTES + IN_FLIGHT_BYTES, `the server wrote ${end.bytesWritten} bytes of 1 GiB`);
  });

  it('a 450 MB body on a 503 from /v1/traces fails the raw export with the status and the limit the deliverer asked for', async () => {
    proxy.mode = { kind: 'huge', status: 503, bytes: 450_000_000, contentType: 'text/html' };
    const error = await tooLarge(
      http.request({
        method: 'POST',
        path: '/v1/traces',
        body: new Uint8Array([1]),
        raw: true,
        maxResponseBytes: EXPORT_MAX_RESPONSE_BYTES,
      }),
    );
    assert.equal(error.status, 503);
    assert.equal(error.contentType, 'text/html');
    assert.match(error.message, /answered POST \/v1\/traces with more than 1 MiB \(HTTP 503, text\/html\)/);
    const end = await hugeAnswerEnd(proxy);
    assert.ok(end.bytesWritten < EXPORT_MAX_RESPONSE_BYTES + IN_FLIGHT_BYTES, `the server wrote ${end.bytesWritten} bytes`);
  });

  it('a Content-Length above the limit fails before the body is read', async () => {
    proxy.mode = { kind: 'huge', status: 503, bytes: 600_000_000, declareLength: true };
    const error = await tooLarge(http.request({ method: 'GET', path: '/version', responseType: 'text' }));
    assert.equal(error.status, 503);
    const end = await hugeAnswerEnd(proxy);
    assert.equal(end.complete, false);
    assert.ok(end.bytesWritten < IN_FLIGHT_BYTES, `the server wrote ${end.bytesWritten} bytes`);
  });
});

describe('answers that carry spans', () => {
  it('may be larger than the API limit: a 9 MiB traces.json is read whole', async () => {
    const big = 'x'.repeat(9 * 1024 * 1024);
    const file = JSON.stringify({
      spans: [
        {
          name: 'root',
          span_id: 'AAAAAAAAAAE=',
          start_time_unix_nano: 1,
          end_time_unix_nano: 2,
          attributes: { 'mlflow.spanInputs': JSON.stringify(big) },
        },
      ],
    });
    const server = await startAnswerServer((_req, res) => answer(res, 200, file, { 'content-type': 'text/plain' }));
    try {
      const http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
      const spans = await getTraceSpans(http, 'tr-0123456789abcdef0123456789abcdef');
      assert.equal((spans?.[0]?.attributes['mlflow.spanInputs'] as string | undefined)?.length, big.length);
    } finally {
      await server.close();
    }
  });
});
