import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { LlmError } from '../../../src/agent/types.ts';
import { postJson, testApp } from './server-fixtures.ts';

const json = (value: unknown) => JSON.parse(String(value)) as unknown;

describe('request spans', () => {
  it('one root span per request: HTTP conventions, MLflow span type, chat-shaped inputs and outputs', async () => {
    const { app, tracing } = testApp();
    const response = await postJson(
      app,
      '/rag/v1/answer',
      { query: 'Explain MLflow tracing' },
      { headers: { 'user-agent': 'curl/8.5.0' } },
    );
    const body = (await response.json()) as { answer: string; trace_id: string };

    const root = tracing.spans().find((span) => span.name === 'POST /rag/v1/answer')!;
    assert.equal(root.kind, SpanKind.SERVER);
    assert.equal(root.parentSpanContext, undefined);
    assert.equal(`tr-${root.spanContext().traceId}`, body.trace_id);
    const { 'mlflow.spanInputs': inputs, 'mlflow.spanOutputs': outputs, ...rest } = root.attributes;
    assert.deepEqual(rest, {
      'http.request.method': 'POST',
      'url.path': '/rag/v1/answer',
      'url.scheme': 'http',
      'http.route': '/rag/v1/answer',
      'server.address': 'localhost',
      'server.port': 80,
      'user_agent.original': 'curl/8.5.0',
      'mlflow.spanType': 'CHAIN',
      'http.response.status_code': 200,
    });
    assert.deepEqual(json(inputs), { messages: [{ role: 'user', content: 'Explain MLflow tracing' }], top_k: 3 });
    assert.deepEqual(json(outputs), {
      choices: [{ index: 0, message: { role: 'assistant', content: body.answer }, finish_reason: 'stop' }],
      model: 'stub-model',
      sources: [{ id: 'mlflow-tracing', title: 'MLflow Tracing', score: 0.9, url: 'https://mlflow.org/docs/latest/genai/tracing/' }],
    });
    assert.equal(root.status.code, SpanStatusCode.OK);
  });

  it("the agent's spans nest under the request span", async () => {
    const { app, tracing } = testApp();
    await postJson(app, '/chat', { query: 'hi' });
    const root = tracing.spans().find((span) => span.name === 'POST /chat')!;
    const child = tracing.spans().find((span) => span.name === 'stub_llm')!;
    assert.equal(child.spanContext().traceId, root.spanContext().traceId);
    assert.equal(child.parentSpanContext?.spanId, root.spanContext().spanId);
  });

  it('/agent/task is an AGENT span whose outputs carry the steps', async () => {
    const { app, tracing } = testApp();
    await postJson(app, '/agent/task', { task: 'What is 6*7?' });
    const root = tracing.spans().find((span) => span.name === 'POST /agent/task')!;
    assert.equal(root.attributes['mlflow.spanType'], 'AGENT');
    assert.deepEqual(json(root.attributes['mlflow.spanInputs']), { messages: [{ role: 'user', content: 'What is 6*7?' }], max_steps: 5 });
    const outputs = json(root.attributes['mlflow.spanOutputs']) as { finished: boolean; steps: unknown[] };
    assert.equal(outputs.finished, true);
    assert.equal(outputs.steps.length, 1);
  });

  it('session_id and user_id from /chat become session.id and user.id on the root span', async () => {
    const { app, tracing } = testApp();
    await postJson(app, '/chat', { query: 'hi', session_id: 'sess-42', user_id: 'user-7' });
    const root = tracing.spans().find((span) => span.name === 'POST /chat')!;
    assert.equal(root.attributes['session.id'], 'sess-42');
    assert.equal(root.attributes['user.id'], 'user-7');
    assert.deepEqual(json(root.attributes['mlflow.spanInputs']), {
      messages: [{ role: 'user', content: 'hi' }],
      session_id: 'sess-42',
      user_id: 'user-7',
    });
  });

  it('honours an incoming traceparent: same trace, the caller span as parent, and says so in the headers', async () => {
    const { app, tracing } = testApp();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const response = await postJson(app, '/chat', { query: 'hi' }, { headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } });
    const body = (await response.json()) as { trace_id: string };
    const root = tracing.spans().find((span) => span.name === 'POST /chat')!;
    assert.equal(root.spanContext().traceId, callerTrace);
    assert.equal(root.parentSpanContext?.spanId, callerSpan);
    assert.equal(body.trace_id, `tr-${callerTrace}`);
    assert.equal(response.headers.get('x-trace-id'), `tr-${callerTrace}`);
    assert.equal(response.headers.get('traceparent'), `00-${callerTrace}-${root.spanContext().spanId}-01`);
  });

  it('a 502 marks the span ERROR with the exception; the response preview names the failure', async () => {
    const { app, agent, tracing } = testApp();
    agent.failure = new LlmError('openai answered 429: rate limited', { status: 429 });
    const response = await postJson(app, '/chat', { query: 'hi' });
    assert.equal(response.status, 502);
    const root = tracing.spans().find((span) => span.name === 'POST /chat')!;
    assert.equal(root.attributes['http.response.status_code'], 502);
    assert.equal(root.attributes['error.type'], 'LlmError');
    assert.deepEqual(root.status, { code: SpanStatusCode.ERROR, message: 'openai answered 429: rate limited' });
    assert.equal(root.events[0]?.name, 'exception');
    assert.deepEqual(json(root.attributes['mlflow.spanOutputs']), {
      error: { code: 'llm_error', message: 'openai answered 429: rate limited' },
    });
    assert.equal(response.headers.get('x-trace-id'), `tr-${root.spanContext().traceId}`);
  });

  it('a refused body leaves the status unset, as HTTP conventions say for 4xx on the server, and tags the trace refused', async () => {
    const { app, tracing } = testApp();
    const response = await postJson(app, '/chat', { query: '' });
    assert.equal(response.status, 422);
    const root = tracing.spans().find((span) => span.name === 'POST /chat')!;
    assert.equal(root.attributes['http.response.status_code'], 422);
    assert.equal(root.status.code, SpanStatusCode.UNSET);
    assert.equal(root.attributes['mlflow.traceTag.refused'], 'HTTP 422', 'MLflow turns it into the trace tag `refused`');
    assert.equal(response.headers.get('x-trace-id'), `tr-${root.spanContext().traceId}`);
  });

  it('traces neither the health check, the docs nor unknown routes', async () => {
    const { app, tracing } = testApp();
    for (const path of ['/', '/openapi.json', '/docs', '/docs/assets/swagger-ui.css', '/nowhere']) await app.request(path);
    assert.deepEqual(tracing.spans(), []);
  });
});
