import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postJson, testApp } from './server-fixtures.ts';

const TOKEN = 'serve-token-0123456789abcdef';

describe('--auth-token', () => {
  it('refuses a POST without the bearer token with 401 JSON and a WWW-Authenticate challenge', async () => {
    const { app, agent, tracing } = testApp({ authToken: TOKEN });
    const response = await postJson(app, '/chat', { query: 'hi' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unauthorized');
    assert.match(body.error.message, /Authorization: Bearer <token>/);
    assert.deepEqual(agent.requests, []);
    assert.deepEqual(tracing.spans(), [], 'a refused caller makes no trace');
  });

  it('refuses a wrong token, another scheme, and a token that only starts right', async () => {
    const { app } = testApp({ authToken: TOKEN });
    for (const authorization of ['Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN]) {
      const response = await postJson(app, '/rag/v1/answer', { query: 'q' }, { headers: { authorization } });
      assert.equal(response.status, 401, authorization);
    }
  });

  it('lets the right token through on every POST route', async () => {
    const { app } = testApp({ authToken: TOKEN });
    const headers = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await postJson(app, '/chat', { query: 'hi' }, { headers })).status, 200);
    assert.equal((await postJson(app, '/rag/v1/answer', { query: 'q' }, { headers })).status, 200);
    assert.equal((await postJson(app, '/agent/task', { task: 't' }, { headers: { authorization: `bearer ${TOKEN}` } })).status, 200);
  });

  it('leaves GET / and the API docs open, so the docs page loads and its Authorize button can take the token', async () => {
    const { app } = testApp({ authToken: TOKEN });
    for (const path of ['/', '/docs', '/docs/assets/swagger-ui-bundle.js', '/openapi.json']) {
      assert.equal((await app.request(path)).status, 200, path);
    }
  });

  it('never writes the token to the log', async () => {
    const { app, logLines } = testApp({ authToken: TOKEN });
    await postJson(app, '/chat', { query: 'hi' }, { headers: { authorization: `Bearer ${TOKEN}` } });
    await postJson(app, '/chat', { query: 'hi' }, { headers: { authorization: `Bearer ${TOKEN}-wrong` } });
    assert.equal(logLines.length, 2);
    assert.doesNotMatch(logLines.join('\n'), new RegExp(TOKEN));
  });
});
