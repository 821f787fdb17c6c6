import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from '../../src/http-server/middleware/body-limit.ts';
import { createOtlpHttpApp } from '../../src/otlp/otlp-http-receiver.ts';
import { testApp } from '../agent/server/server-fixtures.ts';
import { gzipOfZeros } from '../fakes/gzip-bomb.ts';
import { otlpJson, readableSpan } from '../fakes/readable-spans.ts';
import { recordingIngest } from '../otlp/receivers-fixture.ts';

const LIMIT = 1024;

/** Answers the length of the body its handler read, and a refusal as its status and message. */
function limitedApp(): Hono {
  const app = new Hono();
  app.onError((error, c) => c.text(error.message, error instanceof HTTPException ? error.status : 500));
  app.post('/', bodyLimit({ maxBytes: LIMIT }), async (c) => c.text(String((await c.req.arrayBuffer()).byteLength)));
  return app;
}

const post = (app: Hono, body: Uint8Array, headers: Record<string, string> = {}) =>
  app.request('/', { method: 'POST', body: new Uint8Array(body), headers });

describe('the body limit', () => {
  it('hands the handlers after it the body inflated: plain, gzip, deflate zlib-wrapped or raw', async () => {
    const app = limitedApp();
    const body = Buffer.alloc(LIMIT, 0x41);
    for (const [encoding, sent] of [
      ['identity', body],
      ['gzip', gzipSync(body)],
      ['x-gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
      ['deflate', deflateRawSync(body)],
    ] as const) {
      const answer = await post(app, sent, { 'content-encoding': encoding });
      assert.deepEqual([answer.status, await answer.text()], [200, String(LIMIT)], encoding);
    }
  });

  it('refuses a body over the limit with 413, whether its Content-Length says so or its bytes do', async () => {
    const app = limitedApp();
    const declared = await post(app, Buffer.alloc(10), { 'content-length': String(LIMIT + 1) });
    assert.deepEqual([declared.status, await declared.text()], [413, `the request body is larger than the limit of ${LIMIT} bytes`]);
    assert.equal((await post(app, Buffer.alloc(LIMIT + 1))).status, 413);
  });

  it('refuses a body that inflates beyond the limit with 413, though it is small as sent', async () => {
    const bomb = gzipOfZeros(64 * 1024 * 1024);
    assert.ok(bomb.length < 128 * 1024);
    const answer = await post(limitedApp(), bomb, { 'content-encoding': 'gzip' });
    assert.equal(answer.status, 413);
  });

  it('refuses another Content-Encoding with 415, and a body that does not inflate with 400', async () => {
    const app = limitedApp();
    const brotli = await post(app, Buffer.from('x'), { 'content-encoding': 'br' });
    assert.deepEqual([brotli.status, await brotli.text()], [415, 'unsupported Content-Encoding "br"; send gzip, deflate or none']);
    const corrupt = await post(app, Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    assert.equal(corrupt.status, 400);
    assert.match(await corrupt.text(), /^could not decompress the gzip body: /);
  });
});

describe('a gzip bomb, small as sent, is refused by both servers that take bodies', () => {
  const bomb = gzipOfZeros(32 * 1024 * 1024);

  it('serve: 413 body_too_large on a JSON route, while gzip JSON within the limit is taken', async () => {
    const { app, agent } = testApp();
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
    const refused = await app.request('/chat', { method: 'POST', body: new Uint8Array(bomb), headers });
    assert.equal(refused.status, 413);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'body_too_large');
    const taken = await app.request('/chat', { method: 'POST', body: new Uint8Array(gzipSync(JSON.stringify({ query: 'hi' }))), headers });
    assert.equal(taken.status, 200);
    assert.equal(agent.requests.length, 1);
  });

  it('the relay: 413 with a google.rpc.Status of RESOURCE_EXHAUSTED, nothing ingested', async () => {
    const recorder = recordingIngest();
    const app = createOtlpHttpApp({ ingest: recorder.ingest, maxBodyBytes: 1024 * 1024 });
    const span = readableSpan({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'root' });
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
    const refused = await app.request('/v1/traces', { method: 'POST', body: new Uint8Array(bomb), headers });
    assert.equal(refused.status, 413);
    assert.equal((JSON.parse(await refused.text()) as { code: number }).code, 8);
    assert.equal(recorder.batches.length, 0);
    const taken = await app.request('/v1/traces', { method: 'POST', body: new Uint8Array(gzipSync(otlpJson([span]))), headers });
    assert.equal(taken.status, 200);
    assert.equal(recorder.batches.length, 1);
  });
});
