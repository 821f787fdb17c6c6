import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEALTH, USAGE, postJson, testApp } from './server-fixtures.ts';

const TRACE_ID = /^tr-[0-9a-f]{32}$/;

describe('routes', () => {
  it('GET / answers the health info as JSON and makes no trace', async () => {
    const { app, tracing } = testApp();
    const response = await app.request('/');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), HEALTH);
    assert.equal(response.headers.get('x-trace-id'), null);
    assert.equal(tracing.spans().length, 0);
  });

  it("accepts the old demo README's curl bodies on each POST route", async () => {
    const { app, agent } = testApp();
    const chat = await postJson(app, '/chat', '{"query": "What is OpenTelemetry?"}');
    const rag = await postJson(app, '/rag/v1/answer', '{"query": "Explain MLflow tracing"}');
    const task = await postJson(app, '/agent/task', '{"task": "Analyze distributed tracing benefits"}');
    assert.deepEqual([chat.status, rag.status, task.status], [200, 200, 200]);
    assert.deepEqual(agent.requests, [
      { query: 'What is OpenTelemetry?' },
      { query: 'Explain MLflow tracing', top_k: 3 },
      { task: 'Analyze distributed tracing benefits', max_steps: 5 },
    ]);
  });

  it('POST /chat answers with the model, usage and the trace id the header carries', async () => {
    const { app } = testApp({ traceLink: (id) => `http://mlflow.test/#/experiments/7/traces/${id}` });
    const response = await postJson(app, '/chat', { query: 'What is OpenTelemetry?', session_id: 's-1', user_id: 'u-1' });
    const body = (await response.json()) as Record<string, unknown>;
    assert.match(String(body.trace_id), TRACE_ID);
    assert.equal(response.headers.get('x-trace-id'), body.trace_id);
    assert.deepEqual(body, {
      answer: 'stub answer to: What is OpenTelemetry?',
      model: 'stub-model',
      usage: USAGE,
      trace_id: body.trace_id,
      trace_url: `http://mlflow.test/#/experiments/7/traces/${String(body.trace_id)}`,
    });
  });

  it('trace_url is always in the answer: null when no MLflow link is known, as in suite and ask JSON', async () => {
    const { app } = testApp();
    const body = (await (await postJson(app, '/chat', { query: 'hi' })).json()) as Record<string, unknown>;
    assert.ok(Object.hasOwn(body, 'trace_url'));
    assert.equal(body.trace_url, null);
  });

  it('POST /rag/v1/answer passes top_k on and answers with the sources', async () => {
    const { app, agent } = testApp();
    const response = await postJson(app, '/rag/v1/answer', { query: 'Explain MLflow tracing', top_k: 5 });
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(response.status, 200);
    assert.deepEqual(agent.requests, [{ query: 'Explain MLflow tracing', top_k: 5 }]);
    assert.deepEqual(Object.keys(body).sort(), ['answer', 'model', 'sources', 'trace_id', 'trace_url', 'usage']);
    assert.deepEqual(body.sources, [
      { id: 'mlflow-tracing', title: 'MLflow Tracing', score: 0.9, url: 'https://mlflow.org/docs/latest/genai/tracing/' },
    ]);
    assert.equal(response.headers.get('x-trace-id'), body.trace_id);
  });

  it('POST /agent/task answers with the steps, their tool calls and whether it finished', async () => {
    const { app, agent } = testApp();
    const response = await postJson(app, '/agent/task', { task: 'What is 6*7?', max_steps: 2 });
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(response.status, 200);
    assert.deepEqual(agent.requests, [{ task: 'What is 6*7?', max_steps: 2 }]);
    assert.equal(body.finished, true);
    assert.deepEqual(body.steps, [
      { step: 1, tool_calls: [{ name: 'calculator', arguments: { expression: '6*7' }, result: { value: 42 } }] },
    ]);
    assert.equal(response.headers.get('x-trace-id'), body.trace_id);
  });

  it('writes one access-log line per request: method, path, status, duration and trace id, never the body', async () => {
    const { app, logLines } = testApp();
    const response = await app.request('/chat?api_key=secret-in-query', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'secret-in-header' },
      body: JSON.stringify({ query: 'secret-in-body' }),
    });
    await app.request('/');
    assert.equal(logLines.length, 2);
    assert.match(logLines[0]!, new RegExp(`^POST /chat 200 \\d+\\.\\dms ${response.headers.get('x-trace-id')}$`));
    assert.match(logLines[1]!, /^GET \/ 200 \d+\.\dms -$/);
    assert.doesNotMatch(logLines.join('\n'), /secret/);
  });
});
