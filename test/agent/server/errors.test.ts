import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LlmError } from '../../../src/agent/types.ts';
import { postJson, testApp } from './server-fixtures.ts';

interface ErrorJson {
  error: { code: string; message: string; fields?: { path: string; message: string }[] };
}

async function errorOf(response: Response): Promise<ErrorJson['error'] & { status: number }> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return { status: response.status, ...((await response.json()) as ErrorJson).error };
}

describe('bad requests get a 4xx JSON error that says what is wrong', () => {
  it('invalid JSON → 400 invalid_json', async () => {
    const { app, agent } = testApp();
    const error = await errorOf(await postJson(app, '/chat', '{"query": "unterminated'));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'invalid_json');
    assert.match(error.message, /^the request body is not valid JSON: /);
    assert.deepEqual(agent.requests, []);
  });

  const cases: { name: string; path: string; body: unknown; fields: { path: string; message: string }[] }[] = [
    { name: 'a missing query', path: '/chat', body: {}, fields: [{ path: 'query', message: 'is required' }] },
    { name: 'a query of the wrong type', path: '/chat', body: { query: 42 }, fields: [{ path: 'query', message: 'must be a string' }] },
    { name: 'an empty query', path: '/rag/v1/answer', body: { query: '' }, fields: [{ path: 'query', message: 'must not be empty' }] },
    {
      name: 'a query over 8000 characters',
      path: '/chat',
      body: { query: 'x'.repeat(8001) },
      fields: [{ path: 'query', message: 'must be at most 8000 characters' }],
    },
    {
      name: 'stream that is not a boolean',
      path: '/chat',
      body: { query: 'hi', stream: 'yes' },
      fields: [{ path: 'stream', message: 'must be true or false' }],
    },
    {
      name: 'top_k out of range',
      path: '/rag/v1/answer',
      body: { query: 'q', top_k: 11 },
      fields: [{ path: 'top_k', message: 'must be a whole number from 1 to 10' }],
    },
    {
      name: 'top_k as a string',
      path: '/rag/v1/answer',
      body: { query: 'q', top_k: '3' },
      fields: [{ path: 'top_k', message: 'must be a whole number from 1 to 10' }],
    },
    {
      name: 'a missing task and a fractional max_steps',
      path: '/agent/task',
      body: { max_steps: 2.5 },
      fields: [
        { path: 'task', message: 'is required' },
        { path: 'max_steps', message: 'must be a whole number from 1 to 10' },
      ],
    },
    { name: 'a body that is not an object', path: '/chat', body: ['hi'], fields: [{ path: '(body)', message: 'must be a JSON object' }] },
  ];
  for (const { name, path, body, fields } of cases) {
    it(`${name} → 422 invalid_request naming the field`, async () => {
      const { app, agent } = testApp();
      const error = await errorOf(await postJson(app, path, body));
      assert.equal(error.status, 422);
      assert.equal(error.code, 'invalid_request');
      assert.deepEqual(error.fields, fields);
      assert.equal(error.message, fields.map((field) => `${field.path} ${field.message}`).join('; '));
      assert.deepEqual(agent.requests, []);
    });
  }

  it("a body that is not sent as JSON → 415 (curl's -d without a Content-Type header sends a form)", async () => {
    const { app } = testApp();
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain']) {
      const error = await errorOf(await postJson(app, '/chat', '{"query":"hi"}', { headers: { 'content-type': contentType } }));
      assert.equal(error.status, 415);
      assert.equal(error.code, 'unsupported_media_type');
      assert.match(error.message, /Content-Type: application\/json/);
    }
    const bare = await app.request('/chat', { method: 'POST', body: new Blob(['{"query":"hi"}']) });
    assert.equal((await errorOf(bare)).status, 415);
    const withCharset = await postJson(app, '/chat', '{"query":"hi"}', { headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
    assert.equal(withCharset.status, 200);
  });

  it('a body over the limit → 413, 64 KiB by default', async () => {
    const small = testApp({ maxBodyBytes: 100 });
    const refused = await errorOf(await postJson(small.app, '/chat', { query: 'x'.repeat(200) }));
    assert.deepEqual([refused.status, refused.code], [413, 'body_too_large']);
    assert.match(refused.message, /100 bytes/);

    const { app, agent } = testApp();
    // Whitespace keeps the JSON valid whatever its size.
    const padded = (bytes: number) => `{"query": "hi"${' '.repeat(bytes)}}`;
    const error = await errorOf(await postJson(app, '/chat', padded(64 * 1024)));
    assert.equal(error.status, 413);
    assert.equal((await postJson(app, '/chat', padded(60 * 1024))).status, 200);
    assert.equal(agent.requests.length, 1);
  });

  it('a field the route does not know (a typo) → 422 naming it and the known fields, not silently ignored', async () => {
    const { app, agent } = testApp();
    const error = await errorOf(await postJson(app, '/chat', { query: 'hi', sesion_id: 's-1' }));
    assert.deepEqual([error.status, error.code], [422, 'invalid_request']);
    assert.deepEqual(error.fields, [
      { path: 'sesion_id', message: 'is not a field of this request (known fields: query, session_id, user_id, stream)' },
    ]);
    const task = await errorOf(await postJson(app, '/agent/task', { query: 'q', steps: 2 }));
    assert.deepEqual(
      task.fields?.map((field) => field.path),
      ['task', 'query', 'steps'],
    );
    assert.deepEqual(agent.requests, []);
  });

  it('a route asked with the wrong method → 405 with Allow, not "no route"', async () => {
    const { app } = testApp();
    for (const method of ['GET', 'OPTIONS', 'PUT']) {
      const response = await app.request('/chat', { method });
      const error = await errorOf(response);
      assert.deepEqual([error.status, error.code], [405, 'method_not_allowed'], method);
      assert.equal(response.headers.get('allow'), 'POST');
      assert.equal(error.message, `/chat does not take ${method}; use POST (the API is described at /docs)`);
    }
    const head = await app.request('/agent/task', { method: 'HEAD' });
    assert.deepEqual([head.status, head.headers.get('allow')], [405, 'POST']);
    const root = await app.request('/', { method: 'POST' });
    assert.deepEqual([root.status, root.headers.get('allow')], [405, 'GET, HEAD']);
    const asset = await app.request('/docs/assets/package.json');
    assert.equal(asset.status, 404, 'a GET route that finds nothing is still a 404');
  });

  it('an unknown route → 404 JSON', async () => {
    const { app } = testApp();
    const error = await errorOf(await app.request('/v1/chat/completions', { method: 'POST' }));
    assert.deepEqual([error.status, error.code], [404, 'not_found']);
    assert.match(error.message, /POST \/v1\/chat\/completions/);
  });
});

describe('failures behind a valid request', () => {
  it('an LLM failure → 502 llm_error with the provider message, which the server log shows too (not a bare 502)', async () => {
    const { app, agent, logLines } = testApp();
    agent.failure = new LlmError('the LLM provider (openai) answered 500: upstream overloaded', { status: 500 });
    for (const [path, body] of [
      ['/chat', { query: 'q' }],
      ['/rag/v1/answer', { query: 'q' }],
      ['/agent/task', { task: 't' }],
    ] as const) {
      const error = await errorOf(await postJson(app, path, body));
      assert.deepEqual(error, { status: 502, code: 'llm_error', message: 'the LLM provider (openai) answered 500: upstream overloaded' });
      assert.ok(logLines.includes(`POST ${path}: the LLM provider (openai) answered 500: upstream overloaded`), logLines.join('\n'));
    }
  });

  it('a model provider that cannot be reached at all → 502 llm_unreachable, so a client asking many questions stops', async () => {
    const { app, agent } = testApp();
    agent.failure = new LlmError(
      'cannot reach the openai model provider at http://llm.invalid/v1: cannot resolve llm.invalid (DNS lookup failed: ENOTFOUND)',
      { unreachable: true },
    );
    const error = await errorOf(await postJson(app, '/chat', { query: 'q' }));
    assert.deepEqual([error.status, error.code], [502, 'llm_unreachable']);
    assert.match(error.message, /^cannot reach the openai model provider/);
  });

  it('a bug → 500 with a generic message, the stack in the log, and the server keeps answering', async () => {
    const { app, agent, logLines } = testApp();
    agent.failure = new TypeError('cannot read properties of undefined (db password hunter2)');
    const error = await errorOf(await postJson(app, '/agent/task', { task: 't' }));
    assert.deepEqual(error, { status: 500, code: 'internal_error', message: 'internal server error; the server log has the details' });
    assert.match(logLines.join('\n'), /POST \/agent\/task: unexpected error: TypeError: cannot read properties[\s\S]*\n {4}at /);

    agent.failure = undefined;
    assert.equal((await postJson(app, '/agent/task', { task: 't' })).status, 200);
  });
});
