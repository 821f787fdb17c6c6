import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postJson, testApp } from './server-fixtures.ts';

const FRONT_END = 'http://localhost:3000';

function preflight(app: ReturnType<typeof testApp>['app'], origin: string) {
  return app.request('/chat', {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
  });
}

describe('CORS for a browser front end', () => {
  it('is off by default: no CORS headers, and a preflight gets 405', async () => {
    const { app } = testApp();
    const answer = await postJson(app, '/chat', { query: 'hi' }, { headers: { origin: FRONT_END } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
    assert.equal((await preflight(app, FRONT_END)).status, 405);
  });

  it('with allowed origins, a preflight gets 204 naming the origin, methods and headers, even when a token is needed', async () => {
    const { app } = testApp({ corsOrigins: [FRONT_END, 'https://app.example.com'], authToken: 'cors-token' });
    const response = await preflight(app, FRONT_END);
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), FRONT_END);
    assert.equal(response.headers.get('access-control-allow-methods'), 'GET,HEAD,POST');
    assert.match(response.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.match(response.headers.get('vary') ?? '', /Origin/);
  });

  it("the answer to an allowed origin carries its CORS headers and exposes the trace id; another origin's gets none", async () => {
    const { app } = testApp({ corsOrigins: [FRONT_END] });
    const allowed = await postJson(app, '/chat', { query: 'hi' }, { headers: { origin: FRONT_END } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), FRONT_END);
    assert.match(allowed.headers.get('access-control-expose-headers') ?? '', /x-trace-id/);
    const other = await postJson(app, '/chat', { query: 'hi' }, { headers: { origin: 'http://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('`*` allows any origin', async () => {
    const { app } = testApp({ corsOrigins: ['*'] });
    const response = await preflight(app, 'http://anything.example');
    assert.deepEqual([response.status, response.headers.get('access-control-allow-origin')], [204, '*']);
  });
});
