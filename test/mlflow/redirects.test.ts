import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { describeErrorBody } from '../../src/http-client/error-body.ts';
import { MlflowApiError } from '../../src/mlflow/errors.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFaultyProxy, type FaultyProxy } from '../fakes/faulty-proxy.ts';
import { rejection } from '../fakes/rejection.ts';
import { answer, startAnswerServer, type AnswerServer } from './answer-server.ts';

function client(baseUrl: string): MlflowHttp {
  return createMlflowHttp({ baseUrl, auth: createAuthProvider({ kind: 'none' }) });
}

const failure = (promise: Promise<unknown>) => rejection(promise, MlflowApiError);

describe('MLflow behind a proxy whose SSO session expired (302 to /login, which answers 200 HTML)', () => {
  let mlflow: FakeMlflow;
  let proxy: FaultyProxy;
  let http: MlflowHttp;
  before(async () => {
    mlflow = await startFakeMlflow();
    proxy = await startFaultyProxy(mlflow.url);
    proxy.mode = { kind: 'redirect', location: '/login?next=%2Fapi&state=s3cr3t-state' };
    http = client(proxy.url);
  });
  after(async () => {
    await proxy.close();
    await mlflow.close();
  });

  const signInRequests = () => proxy.requests.filter((r) => r.path.startsWith('/login'));

  it('fails an API call naming the sign-in page and a login proxy, without its query, and never fetches the page', async () => {
    const error = await failure(
      http.request({ method: 'GET', path: '/api/2.0/mlflow/experiments/get-by-name', query: { experiment_name: 'x' } }),
    );
    assert.equal(error.status, 302);
    assert.equal(
      error.message,
      `GET /api/2.0/mlflow/experiments/get-by-name was redirected (302) to ${proxy.url}/login: a login proxy in front of MLflow?`,
    );
    assert.equal(error.location, `${proxy.url}/login`);
    assert.equal(error.redirectCause, 'login');
    assert.equal(error.exitCode, ExitCode.auth);
    assert.match(error.hint ?? '', /sign in to the proxy .* or point MLFLOW_TRACKING_URI past the proxy/);
    assert.doesNotMatch(`${error.message} ${error.hint}`, /s3cr3t|next=/);
    assert.equal(signInRequests().length, 0);
  });

  it('answers a raw export with the 302 itself, saying where it pointed, so it cannot pass for delivered', async () => {
    const raw = await http.request({ method: 'POST', path: '/v1/traces', body: new Uint8Array([1]), raw: true });
    assert.equal(raw.status, 302);
    assert.equal(raw.location, `${proxy.url}/login`);
    assert.equal(raw.redirectCause, 'login');
    assert.equal(describeErrorBody(raw), `redirected (302) to ${proxy.url}/login: a login proxy in front of MLflow?`);
    assert.equal(signInRequests().length, 0);
    assert.equal(mlflow.requests.filter((r) => r.path === '/v1/traces').length, 0, 'nothing reached MLflow');
  });
});

describe('redirects from elsewhere', () => {
  let server: AnswerServer;
  /** Location header by request path. */
  const locations = new Map<string, string>();
  before(async () => {
    server = await startAnswerServer((req, res) => {
      const location = locations.get(req.url.split('?', 1)[0]!);
      if (location === undefined) return answer(res, 200, '{}');
      res.writeHead(req.url.startsWith('/https') ? 301 : 302, { location, 'content-type': 'text/html' });
      res.end();
    });
  });
  after(() => server.close());

  it('names an SSO host without the user info, query or fragment of its address', async () => {
    locations.set(
      '/api/2.0/mlflow/experiments/search',
      'https://alice:pw-1234@sso.example.com/oauth2/authorize?client_id=c1&state=st-42#frag',
    );
    const error = await failure(client(server.url).request({ method: 'POST', path: '/api/2.0/mlflow/experiments/search', json: {} }));
    assert.equal(
      error.message,
      'POST /api/2.0/mlflow/experiments/search was redirected (302) to https://sso.example.com/oauth2/authorize: a login proxy in front of MLflow?',
    );
    assert.doesNotMatch(`${error.message} ${error.hint} ${error.detail}`, /alice|pw-1234|client_id|st-42|frag/);
  });

  it('for http → https on the same address, says to use the https URL, prefix included', async () => {
    const port = new URL(server.url).port;
    locations.set('/https/api/2.0/mlflow/experiments/get', `https://127.0.0.1:${Number(port) + 1}/https/api/2.0/mlflow/experiments/get`);
    const error = await failure(
      client(`${server.url}/https`).request({ method: 'GET', path: '/api/2.0/mlflow/experiments/get', query: { experiment_id: '1' } }),
    );
    assert.equal(error.status, 301);
    assert.match(
      error.message,
      /was redirected \(301\) to https:\/\/127\.0\.0\.1:\d+\/https\/api\/2\.0\/mlflow\/experiments\/get: the server takes https only$/,
    );
    assert.equal(error.hint, `use the https URL in MLFLOW_TRACKING_URI: https://127.0.0.1:${Number(port) + 1}/https`);
    assert.equal(error.exitCode, ExitCode.unreachable);
  });

  it("for anything else, names the target and says the tracking URI must be MLflow's base URL", async () => {
    locations.set('/version', '/mlflow/version');
    const error = await failure(client(server.url).request({ method: 'GET', path: '/version', responseType: 'text' }));
    assert.equal(
      error.message,
      `GET /version was redirected (302) to ${server.url}/mlflow/version: not an answer MLflow gives (it does not redirect)`,
    );
    assert.match(error.hint ?? '', /MLFLOW_TRACKING_URI must be MLflow's base URL/);
    assert.equal(error.exitCode, ExitCode.unreachable);
    assert.equal(server.seen.filter((r) => r.url === '/mlflow/version').length, 0);
  });
});
