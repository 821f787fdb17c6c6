import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AuthSettings, Sourced } from '../../src/config/types.ts';
import { ConfigError, ExitCode } from '../../src/errors.ts';
import { createAuthProvider, OAuthTokenError } from '../../src/workspace-auth/auth.ts';

import { createMlflowHttp } from '../../src/mlflow/http.ts';
import { answer, startAnswerServer, type AnswerServer } from '../mlflow/answer-server.ts';

const CLIENT_ID = 'sp-client-1';
const CLIENT_SECRET = 'dose-very-secret-42';
const HOUR_S = 3600;

function src<T>(value: T): Sourced<T> {
  return { value, source: { kind: 'env', name: 'TEST' } };
}

const M2M: AuthSettings = { kind: 'databricks-oauth-m2m', clientId: src(CLIENT_ID), clientSecret: src(CLIENT_SECRET) };

/** A Databricks workspace in miniature: an OIDC token endpoint and one API that checks the token. */
function workspace() {
  const state = {
    issued: 0,
    expiresIn: HOUR_S,
    accepted: new Set<string>(),
    tokenAnswer: undefined as [number, string, Record<string, string>?] | undefined,
  };
  const start = () =>
    startAnswerServer((req, res) => {
      if (req.url === '/oidc/v1/token') {
        if (state.tokenAnswer) return answer(res, ...state.tokenAnswer);
        const token = `tok-${++state.issued}`;
        state.accepted.add(token);
        return answer(res, 200, JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: state.expiresIn }));
      }
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      if (!state.accepted.has(token)) return answer(res, 403, '{"error_code":"PERMISSION_DENIED","message":"Invalid access token."}');
      answer(res, 200, '{"experiment_id":"1"}');
    });
  return { state, start };
}

describe('Databricks OAuth M2M', () => {
  const ws = workspace();
  let server: AnswerServer;
  let clock: number;
  const now = () => clock;
  before(async () => {
    server = await ws.start();
  });
  after(() => server.close());
  beforeEach(() => {
    server.seen.length = 0;
    ws.state.issued = 0;
    ws.state.expiresIn = HOUR_S;
    ws.state.accepted.clear();
    ws.state.tokenAnswer = undefined;
    clock = 1_000_000;
  });

  const tokenRequests = () => server.seen.filter((r) => r.url === '/oidc/v1/token');

  it('asks the token endpoint with the client credentials as Basic and a client_credentials form', async () => {
    const auth = createAuthProvider(M2M, { host: server.url, now });
    assert.deepEqual(await auth.headers(), { Authorization: 'Bearer tok-1' });
    const [request] = tokenRequests();
    assert.equal(request?.method, 'POST');
    assert.equal(request?.headers.authorization, `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`);
    assert.equal(request?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(request?.body, 'grant_type=client_credentials&scope=all-apis');
  });

  it('fetches one token for many requests, and one for concurrent callers', async () => {
    const auth = createAuthProvider(M2M, { host: server.url, now });
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => auth.headers()));
    await auth.headers();
    assert.equal(tokenRequests().length, 1);
    assert.ok(concurrent.every((h) => h.Authorization === 'Bearer tok-1'));
  });

  it('refreshes 5 minutes before an hour-long token expires', async () => {
    const auth = createAuthProvider(M2M, { host: server.url, now });
    await auth.headers();
    clock += (HOUR_S - 300) * 1000 - 1;
    assert.deepEqual(await auth.headers(), { Authorization: 'Bearer tok-1' });
    clock += 1;
    assert.deepEqual(await auth.headers(), { Authorization: 'Bearer tok-2' });
    assert.equal(tokenRequests().length, 2);
  });

  it('refreshes a short-lived token at 90% of its life', async () => {
    ws.state.expiresIn = 100;
    const auth = createAuthProvider(M2M, { host: server.url, now });
    await auth.headers();
    clock += 89_999;
    assert.deepEqual(await auth.headers(), { Authorization: 'Bearer tok-1' });
    clock += 1;
    assert.deepEqual(await auth.headers(), { Authorization: 'Bearer tok-2' });
  });

  it('gets a fresh token and retries once when the workspace answers 403 mid-run', async () => {
    const http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider(M2M, { host: server.url, now }) });
    assert.deepEqual(await http.request({ method: 'POST', path: '/api/2.0/mlflow/experiments/create', json: { name: 'a' } }), {
      experiment_id: '1',
    });
    ws.state.accepted.delete('tok-1'); // revoked or expired early, before our refresh margin
    assert.deepEqual(await http.request({ method: 'POST', path: '/api/2.0/mlflow/experiments/create', json: { name: 'b' } }), {
      experiment_id: '1',
    });
    assert.equal(tokenRequests().length, 2);
    assert.deepEqual(
      server.seen.filter((r) => r.url !== '/oidc/v1/token').map((r) => r.headers.authorization),
      ['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2'],
    );
  });

  it("fails with the client id and the server's reason, never the secret", async () => {
    ws.state.tokenAnswer = [401, '{"error":"invalid_client","error_description":"Client authentication failed"}'];
    const http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider(M2M, { host: server.url, now }) });
    const error = await http.request({ method: 'GET', path: '/api/2.0/mlflow/experiments/get' }).then(
      () => assert.fail('expected a token failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OAuthTokenError);
    assert.equal(error.exitCode, ExitCode.auth);
    assert.equal(
      error.message,
      `Databricks OAuth token request for client id ${CLIENT_ID} failed: HTTP 401: invalid_client: Client authentication failed`,
    );
    assertNoSecret(error);
  });

  it('masks the secret even when the token endpoint echoes it back', async () => {
    ws.state.tokenAnswer = [400, JSON.stringify({ error: 'invalid_request', error_description: `bad secret ${CLIENT_SECRET}` })];
    const auth = createAuthProvider(M2M, { host: server.url, now });
    const error = await auth.headers().then(
      () => assert.fail('expected a token failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OAuthTokenError);
    assert.match(error.message, /bad secret \*\*\*/);
    assertNoSecret(error);
  });

  it('fails naming the sign-in page when the token endpoint redirects, and does not follow it', async () => {
    ws.state.tokenAnswer = [302, '', { location: '/login?state=st-1' }];
    const auth = createAuthProvider(M2M, { host: server.url, now });
    const error = await auth.headers().then(
      () => assert.fail('expected a token failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OAuthTokenError);
    assert.equal(
      error.message,
      `Databricks OAuth token request for client id ${CLIENT_ID} failed: HTTP 302: redirected (302) to ${server.url}/login: a login proxy in front of Databricks?`,
    );
    assert.deepEqual(
      server.seen.map((r) => r.url),
      ['/oidc/v1/token'],
      'the sign-in page was not fetched',
    );
    assertNoSecret(error);
  });

  it('fails when a 200 carries no access_token', async () => {
    ws.state.tokenAnswer = [200, '{"token_type":"Bearer"}'];
    const auth = createAuthProvider(M2M, { host: server.url, now });
    await assert.rejects(auth.headers(), (e: unknown) => e instanceof OAuthTokenError && /no access_token/.test(e.message));
  });

  it('needs the workspace host', () => {
    assert.throws(() => createAuthProvider(M2M, {}), ConfigError);
  });
});

describe('describe()', () => {
  const cases: [AuthSettings, string][] = [
    [{ kind: 'none' }, 'none'],
    [{ kind: 'basic', username: src('alice'), password: src('pw-secret-1') }, 'Basic (user alice)'],
    [{ kind: 'bearer', token: src('tok-secret-1') }, 'Bearer token'],
    [{ kind: 'databricks-pat', token: src('dapi-secret-1') }, 'Databricks personal access token'],
    [M2M, `Databricks OAuth M2M (client id ${CLIENT_ID})`],
  ];
  for (const [settings, expected] of cases) {
    it(`names ${settings.kind} without its secret`, () => {
      assert.equal(createAuthProvider(settings, { host: 'https://example.invalid' }).describe(), expected);
    });
  }
});

function assertNoSecret(error: Error & { hint?: string | undefined }): void {
  const shown = [error.message, error.hint ?? '', String(error.stack), JSON.stringify(error)].join('\n');
  assert.ok(!shown.includes(CLIENT_SECRET), shown);
  assert.ok(!shown.includes(Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')), shown);
}
