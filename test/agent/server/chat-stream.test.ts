import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { LlmError, type ChatRequest, type ChatStreamEvent } from '../../../src/agent/types.ts';
import { listenApp } from './listen-app.ts';
import { USAGE, StubAgent, memoryTracing, parseSse, postJson, testApp } from './server-fixtures.ts';

type Behaviour = 'complete' | 'wait-for-abort' | 'fail-midway' | 'fail-at-once';

/** Streams "Open" + "Telemetry" from a child span, or misbehaves as told. */
class StreamingStub extends StubAgent {
  behaviour: Behaviour = 'complete';
  signal: AbortSignal | undefined;

  override async *chatStream(_request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    this.signal = signal;
    const span = this.tracer.startSpan('stub_stream');
    try {
      if (this.behaviour === 'fail-at-once') throw new LlmError('the LLM provider answered 401: invalid key');
      yield { type: 'delta', text: 'Open' };
      if (this.behaviour === 'fail-midway') throw new LlmError('the LLM provider closed the stream');
      if (this.behaviour === 'wait-for-abort') {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        throw new LlmError('request aborted');
      }
      yield { type: 'delta', text: 'Telemetry' };
      yield { type: 'done', result: { answer: 'OpenTelemetry', model: 'stub-model', usage: USAGE } };
    } finally {
      span.end();
    }
  }
}

function streamingApp(behaviour: Behaviour) {
  const tracing = memoryTracing();
  const agent = new StreamingStub(tracing.tracer);
  agent.behaviour = behaviour;
  return { ...testApp({ tracing, agent }), agent };
}

describe('POST /chat with stream: true', () => {
  it('sends delta events, then done with the same JSON as the plain answer; the span ends with the stream', async () => {
    const { app, tracing } = streamingApp('complete');
    const response = await postJson(app, '/chat', { query: 'What is OpenTelemetry?', stream: true });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const traceId = response.headers.get('x-trace-id');
    assert.match(traceId ?? '', /^tr-[0-9a-f]{32}$/);

    assert.deepEqual(parseSse(await response.text()), [
      { event: 'delta', data: { text: 'Open' } },
      { event: 'delta', data: { text: 'Telemetry' } },
      { event: 'done', data: { answer: 'OpenTelemetry', model: 'stub-model', usage: USAGE, trace_id: traceId, trace_url: null } },
    ]);
    const root = await tracing.ended('POST /chat');
    const child = tracing.spans().find((span) => span.name === 'stub_stream')!;
    assert.equal(child.parentSpanContext?.spanId, root.spanContext().spanId);
    assert.equal(root.status.code, SpanStatusCode.OK);
    assert.deepEqual(JSON.parse(String(root.attributes['mlflow.spanInputs'])), {
      messages: [{ role: 'user', content: 'What is OpenTelemetry?' }],
      stream: true,
    });
    assert.deepEqual(JSON.parse(String(root.attributes['mlflow.spanOutputs'])), {
      choices: [{ index: 0, message: { role: 'assistant', content: 'OpenTelemetry' }, finish_reason: 'stop' }],
      model: 'stub-model',
    });
  });

  const goAway = {
    'aborts its request': async (client: AbortController) => client.abort(),
    'stops reading the response': async (_client: AbortController, reader: ReadableStreamDefaultReader<Uint8Array>) => reader.cancel(),
  };
  for (const [how, leave] of Object.entries(goAway)) {
    it(`a client that ${how} mid-stream aborts the model call, and every span ends`, async () => {
      const { app, agent, tracing } = streamingApp('wait-for-abort');
      const client = new AbortController();
      const response = await postJson(app, '/chat', { query: 'hi', stream: true }, { signal: client.signal });
      const reader = response.body!.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /^event: delta\ndata: \{"text":"Open"\}/);
      assert.equal(agent.signal?.aborted, false);

      await leave(client, reader);
      const root = await tracing.ended('POST /chat');
      assert.equal(agent.signal?.aborted, true);
      assert.ok(
        tracing.spans().some((span) => span.name === 'stub_stream'),
        "the agent's span ended too",
      );
      assert.deepEqual(root.status, {
        code: SpanStatusCode.ERROR,
        message: 'the client closed the connection before the answer was complete',
      });
      assert.deepEqual(JSON.parse(String(root.attributes['mlflow.spanOutputs'])), {
        choices: [{ index: 0, message: { role: 'assistant', content: 'Open' }, finish_reason: null }],
      });
    });
  }

  it('over a real socket, a dropped connection mid-stream aborts the model call and ends the request span', async () => {
    const { app, agent, tracing } = streamingApp('wait-for-abort');
    const server = await listenApp(app);
    try {
      const firstChunk = new Promise<string>((resolve, reject) => {
        const request = httpRequest(
          `${server.url}/chat`,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (response) => {
            response.once('data', (chunk: Buffer) => {
              resolve(chunk.toString());
              request.destroy();
            });
          },
        );
        request.on('error', (error) => (error.message === 'socket hang up' ? undefined : reject(error)));
        request.end(JSON.stringify({ query: 'hi', stream: true }));
      });
      assert.match(await firstChunk, /^event: delta/);
      const root = await tracing.ended('POST /chat');
      assert.equal(agent.signal?.aborted, true);
      assert.equal(root.status.code, SpanStatusCode.ERROR);
      assert.equal(root.attributes['client.address'], '127.0.0.1');
    } finally {
      await server.close();
    }
  });

  it('an LLM failure mid-stream ends the stream with an error event and marks the span', async () => {
    const { app, tracing } = streamingApp('fail-midway');
    const response = await postJson(app, '/chat', { query: 'hi', stream: true });
    assert.deepEqual(parseSse(await response.text()), [
      { event: 'delta', data: { text: 'Open' } },
      { event: 'error', data: { error: { code: 'llm_error', message: 'the LLM provider closed the stream' } } },
    ]);
    const root = await tracing.ended('POST /chat');
    assert.deepEqual(root.status, { code: SpanStatusCode.ERROR, message: 'the LLM provider closed the stream' });
    assert.equal(root.events[0]?.name, 'exception');
  });

  it('an LLM failure before the first event is a plain 502, not a stream', async () => {
    const { app, tracing } = streamingApp('fail-at-once');
    const response = await postJson(app, '/chat', { query: 'hi', stream: true });
    assert.equal(response.status, 502);
    assert.deepEqual(await response.json(), { error: { code: 'llm_error', message: 'the LLM provider answered 401: invalid key' } });
    const root = await tracing.ended('POST /chat');
    assert.equal(root.attributes['http.response.status_code'], 502);
    assert.equal(root.status.code, SpanStatusCode.ERROR);
  });
});
