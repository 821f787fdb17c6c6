import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postJson, testApp } from './server-fixtures.ts';

describe('a request still running when the grace period ends', () => {
  it('gets a 503 with Retry-After, not a dropped connection', async () => {
    const graceOver = new AbortController();
    const { app, agent } = testApp({ shuttingDown: graceOver.signal });
    // The model never answers: only the end of the grace period ends the request.
    agent.chat = () => new Promise(() => {});
    const pending = postJson(app, '/chat', { query: 'a slow question' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    graceOver.abort();
    const response = await pending;
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'shutting_down');
    assert.match(body.error.message, /try again/);
  });

  it('leaves requests that finish in time alone', async () => {
    const graceOver = new AbortController();
    const { app } = testApp({ shuttingDown: graceOver.signal });
    const response = await postJson(app, '/chat', { query: 'quick' });
    graceOver.abort();
    assert.equal(response.status, 200);
  });
});
