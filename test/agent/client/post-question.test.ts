import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ANSWER_MAX_BYTES, postQuestion } from '../../../src/agent/client/post-question.ts';

const TRACE_ID = 'tr-0123456789abcdef0123456789abcdef';
const DONE = { answer: 'OpenTelemetry', model: 'm', usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 }, trace_id: TRACE_ID };

/** What the server writes for each request, in pieces, as a server streaming through proxies might. */
let reply: (res: ServerResponse) => void;
const bodies: unknown[] = [];
const paths: string[] = [];

function sse(res: ServerResponse, pieces: string[], end = true): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-trace-id': TRACE_ID });
  for (const piece of pieces) res.write(piece);
  if (end) res.end();
}

describe('postQuestion streaming a /chat answer', () => {
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      paths.push(req.url ?? '');
      bodies.push(text === '' ? undefined : JSON.parse(text));
      reply(res);
    });
  });
  let url: URL;
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const ask = (onDelta: (text: string) => void, signal?: AbortSignal) =>
    postQuestion(url, 'chat', 'What is OpenTelemetry?', { timeoutMs: 5_000, onDelta, ...(signal && { signal }) });

  it('asks for a stream, hands over each piece, and answers with the done event; CRLF split across chunks and comments are fine', async () => {
    reply = (res) =>
      sse(res, [
        ': keep-alive\r\n\r',
        '\nevent: delta\r\ndata: {"text":"Open"}\r\n\r\n',
        'event: delta\ndata: {"text":"Tele',
        'metry"}\n\n',
        `event: done\ndata: ${JSON.stringify(DONE)}\n\n`,
      ]);
    const pieces: string[] = [];
    const outcome = await ask((text) => pieces.push(text));
    assert.deepEqual(bodies.at(-1), { query: 'What is OpenTelemetry?', stream: true });
    assert.deepEqual(pieces, ['Open', 'Telemetry']);
    assert.ok(outcome.ok);
    assert.equal(outcome.answer.answer, 'OpenTelemetry');
    assert.equal(outcome.answer.traceId, TRACE_ID);
    assert.equal(outcome.answer.usage.total_tokens, 5);
  });

  it('reports a failure sent as an error event after the 200, with its code and the trace id', async () => {
    reply = (res) =>
      sse(res, [
        'event: delta\ndata: {"text":"Open"}\n\n',
        'event: error\ndata: {"error":{"code":"llm_error","message":"the openai model provider answered 500"}}\n\n',
      ]);
    const outcome = await ask(() => undefined);
    assert.ok(!outcome.ok);
    assert.equal(outcome.code, 'llm_error');
    assert.equal(outcome.error, 'llm_error: the openai model provider answered 500');
    assert.equal(outcome.traceId, TRACE_ID);
  });

  it('says the stream ended early when it stops before done', async () => {
    reply = (res) => sse(res, ['event: delta\ndata: {"text":"Open"}\n\n']);
    const outcome = await ask(() => undefined);
    assert.ok(!outcome.ok);
    assert.equal(outcome.error, 'the answer stream ended before the answer was complete');
    assert.equal(outcome.traceId, TRACE_ID);
  });

  it('takes a plain JSON refusal that comes before any piece', async () => {
    reply = (res) => {
      res.writeHead(502, { 'content-type': 'application/json', 'x-trace-id': TRACE_ID });
      res.end('{"error":{"code":"llm_error","message":"the openai model provider answered 401: the API key was refused"}}');
    };
    const outcome = await ask(() => undefined);
    assert.ok(!outcome.ok);
    assert.equal(outcome.httpStatus, 502);
    assert.equal(outcome.error, 'HTTP 502 llm_error: the openai model provider answered 401: the API key was refused');
  });

  it('stops waiting when interrupted mid-stream, keeping the trace id, and closes the connection', async () => {
    let closed!: Promise<unknown>;
    reply = (res) => {
      closed = once(res, 'close');
      sse(res, ['event: delta\ndata: {"text":"Open"}\n\n'], false);
    };
    const interrupt = new AbortController();
    const outcome = await ask(() => interrupt.abort(), interrupt.signal);
    assert.ok(!outcome.ok);
    assert.equal(outcome.interrupted, true);
    assert.equal(outcome.traceId, TRACE_ID);
    await closed;
  });

  it('cuts an answer stream that never ends at 64 MiB, says why, and closes the connection', async () => {
    const delta = `event: delta\ndata: ${JSON.stringify({ text: 'x'.repeat(64 * 1024) })}\n\n`;
    let ended!: Promise<number>;
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-trace-id': TRACE_ID });
      let written = 0;
      ended = once(res, 'close').then(() => written);
      // Made as the client reads, up to a gigabyte: the stream never exists as a whole.
      const pump = () => {
        while (written < 1024 ** 3 && !res.destroyed) {
          written += delta.length;
          if (!res.write(delta)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    };
    let pieces = 0;
    const outcome = await ask(() => pieces++);
    assert.ok(!outcome.ok);
    assert.equal(
      outcome.error,
      `${url.origin} answered POST /chat with more than 64 MiB (HTTP 200, text/event-stream): not an answer otel-mlflow serve gives — is something else listening there?`,
    );
    assert.equal(outcome.traceId, TRACE_ID);
    assert.ok(pieces > 0 && pieces * 64 * 1024 <= ANSWER_MAX_BYTES, `${pieces} pieces handed over`);
    const written = await ended;
    assert.ok(written < ANSWER_MAX_BYTES + 32 * 1024 * 1024, `the server wrote ${written} bytes`);
  });

  it('names a redirect (a login proxy in front of serve) instead of following it', async () => {
    reply = (res) => {
      res.writeHead(302, { location: '/login?next=%2Fchat' });
      res.end();
    };
    const before = paths.length;
    const outcome = await ask(() => undefined);
    assert.ok(!outcome.ok);
    assert.equal(outcome.httpStatus, 302);
    assert.equal(outcome.error, `redirected (302) to ${url.origin}/login: a login proxy in front of otel-mlflow serve?`);
    assert.deepEqual(paths.slice(before), ['/chat']);
  });

  it('sends no stream flag for the other endpoints, which answer whole', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...DONE, sources: [] }));
    };
    const outcome = await postQuestion(url, 'rag', 'Explain MLflow tracing', {
      timeoutMs: 5_000,
      onDelta: () => assert.fail('rag does not stream'),
    });
    assert.ok(outcome.ok);
    assert.deepEqual(bodies.at(-1), { query: 'Explain MLflow tracing' });
  });
});
