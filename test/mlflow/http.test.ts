import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { describeErrorBody } from '../../src/http-client/error-body.ts';
import { MlflowApiError } from '../../src/mlflow/errors.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import type { AuthSettings, Sourced } from '../../src/config/types.ts';
import { rejection } from '../fakes/rejection.ts';
import { answer, FLASK_404_PAGE, startAnswerServer, type AnswerServer } from './answer-server.ts';

const NGINX_401 =
  '<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n';
const MLFLOW_AUTH_401 =
  'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.';
const DUPLICATE_EXPERIMENT =
  '{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Experiment(name=demo) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.workspace, experiments.name\\n[SQL: INSERT INTO experiments (name, workspace, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)]\\n[parameters: (\'demo\', \'default\', \'\', \'active\', 1795539526274, 1795539526274)]", "sqlstate": "KAM00", "error_class": "RESOURCE_ALREADY_EXISTS"}';

const UVICORN = { server: 'uvicorn' };

/** path → [status, body, headers]; bodies copied from /work/shared/mlflow-samples. */
const ANSWERS: Record<string, [number, string, Record<string, string>]> = {
  '/v1/traces?case=422-old': [
    422,
    '{"detail":[{"loc":["header","x-mlflow-experiment-id"],"msg":"field required","type":"value_error.missing"}]}',
    UVICORN,
  ],
  '/v1/traces?case=422-new': [
    422,
    '{"detail":[{"type":"missing","loc":["header","x-mlflow-experiment-id"],"msg":"Field required","input":null}]}',
    UVICORN,
  ],
  '/v1/traces?case=unknown-experiment-3.8': [
    422,
    '{"detail":"Failed to log OpenTelemetry spans: Trace tr-713e27095de0e892c4aeddd0e6eb82ff: No Experiment with id=999999 exists"}',
    UVICORN,
  ],
  '/v1/traces?case=unknown-experiment-3.14': [
    404,
    '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"No Experiment with id=999999 exists","sqlstate":"KAM00","error_class":"RESOURCE_NOT_FOUND"}',
    UVICORN,
  ],
  '/v1/traces?case=filestore': [501, '{"detail":"REST OTLP span logging is not supported by FileStore"}', UVICORN],
  '/v1/traces?case=content-type': [400, '{"detail":"Invalid Content-Type: application/json. Expected: application/x-protobuf"}', UVICORN],
  '/api/2.0/mlflow/experiments/get-by-name?experiment_name=nope': [
    404,
    '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Could not find experiment with name \'nope\'", "sqlstate": "KAM00", "error_class": "RESOURCE_NOT_FOUND"}',
    UVICORN,
  ],
  '/api/2.0/mlflow/experiments/create': [400, DUPLICATE_EXPERIMENT, UVICORN],
  '/api/2.0/mlflow/unknown': [404, FLASK_404_PAGE, { 'content-type': 'text/html; charset=utf-8', ...UVICORN }],
  '/api/3.0/mlflow/traces/get?trace_id=tr-9d52d60307ae9b86236429e8d4d167fa': [
    500,
    '{"error_code": "INTERNAL_ERROR", "message": "Trace data not stored in tracking store"}',
    UVICORN,
  ],
  '/proxy-401': [401, NGINX_401, { 'content-type': 'text/html', server: 'nginx/1.25.3' }],
  '/gateway-401': [401, '{"message":"Unauthorized"}', {}],
  '/mlflow-401': [
    401,
    MLFLOW_AUTH_401,
    { 'content-type': 'text/html; charset=utf-8', 'www-authenticate': 'Basic realm="mlflow"', ...UVICORN },
  ],
  '/mlflow-403-behind-nginx': [403, 'Permission denied', { 'content-type': 'text/html; charset=utf-8', server: 'nginx/1.25.3' }],
  '/databricks-403': [403, '{"error_code":"PERMISSION_DENIED","message":"Invalid access token."}', {}],
  '/login-page': [200, '<html><head><title>Sign in</title></head><body>…</body></html>', { 'content-type': 'text/html' }],
  '/empty': [200, '', {}],
  '/artifact': [200, '{"spans": [{"start_time_unix_nano": 1795537037654363429, "n": 7}]}', { 'content-type': 'text/plain' }],
};

function src<T>(value: T): Sourced<T> {
  return { value, source: { kind: 'env', name: 'TEST' } };
}

function client(server: AnswerServer, settings: AuthSettings = { kind: 'none' }, baseUrl = server.url): MlflowHttp {
  return createMlflowHttp({ baseUrl, auth: createAuthProvider(settings) });
}

const failure = (promise: Promise<unknown>) => rejection(promise, MlflowApiError);

describe('MLflow HTTP client', () => {
  let server: AnswerServer;
  let http: MlflowHttp;
  before(async () => {
    server = await startAnswerServer((req, res) => {
      if (req.url.startsWith('/echo')) return answer(res, 200, JSON.stringify({ headers: req.headers, body: req.body, url: req.url }));
      const found = ANSWERS[req.url];
      if (!found) return answer(res, 404, FLASK_404_PAGE, { 'content-type': 'text/html; charset=utf-8' });
      answer(res, found[0], found[1], found[2]);
    });
    http = client(server);
  });
  after(() => server.close());

  describe('error bodies', () => {
    it('renders a ≤3.8 FastAPI 422 list readably, as a request bug', async () => {
      const error = await failure(http.request({ method: 'POST', path: '/v1/traces?case=422-old' }));
      assert.equal(error.detail, 'header x-mlflow-experiment-id: field required');
      assert.equal(error.message, 'POST /v1/traces failed: HTTP 422: header x-mlflow-experiment-id: field required');
      assert.equal(error.exitCode, ExitCode.internal);
      assert.equal(error.fromProxy, false);
    });

    it('renders the 3.11+ FastAPI 422 list the same way', async () => {
      const error = await failure(http.request({ method: 'POST', path: '/v1/traces?case=422-new' }));
      assert.equal(error.detail, 'header x-mlflow-experiment-id: Field required');
    });

    it('reads a 404 with sqlstate and error_class (3.12+) as a missing experiment', async () => {
      const error = await failure(
        http.request({ method: 'GET', path: '/api/2.0/mlflow/experiments/get-by-name', query: { experiment_name: 'nope' } }),
      );
      assert.equal(error.status, 404);
      assert.equal(error.errorCode, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal(error.detail, "Could not find experiment with name 'nope'");
      assert.equal(error.exitCode, ExitCode.experiment);
      assert.equal(error.path, '/api/2.0/mlflow/experiments/get-by-name');
    });

    it('classifies an unknown experiment on /v1/traces as such, both as 3.8 (422) and 3.14 (404) say it', async () => {
      for (const version of ['3.8', '3.14']) {
        const error = await failure(http.request({ method: 'POST', path: `/v1/traces?case=unknown-experiment-${version}` }));
        assert.equal(error.exitCode, ExitCode.experiment, version);
        assert.match(error.detail, /No Experiment with id=999999 exists/);
      }
    });

    it("explains Flask's 404 HTML page as a wrong path or server", async () => {
      const error = await failure(http.request({ method: 'GET', path: '/api/2.0/mlflow/unknown' }));
      assert.equal(error.detail, 'not found (HTML 404 page: is this an MLflow server / the right path?)');
      assert.equal(error.exitCode, ExitCode.unreachable);
      assert.equal(error.fromProxy, false);
      assert.match(error.hint ?? '', /tracking URI/);
    });

    it("reports the file store's 501 on /v1/traces as OTLP being unavailable", async () => {
      const error = await failure(http.request({ method: 'POST', path: '/v1/traces?case=filestore' }));
      assert.equal(error.status, 501);
      assert.equal(error.detail, 'REST OTLP span logging is not supported by FileStore');
      assert.equal(error.exitCode, ExitCode.otlpUnavailable);
      assert.match(error.hint ?? '', /--export-path rest/);
    });

    it('keeps only the first line of a multi-line MLflow message (no SQL dump)', async () => {
      const error = await failure(http.request({ method: 'POST', path: '/api/2.0/mlflow/experiments/create', json: { name: 'demo' } }));
      assert.equal(error.errorCode, 'RESOURCE_ALREADY_EXISTS');
      assert.doesNotMatch(error.message, /SQL|parameters/);
      assert.equal(error.exitCode, ExitCode.experiment);
    });

    it('treats other server failures as export failures', async () => {
      const internal = await failure(
        http.request({ method: 'GET', path: '/api/3.0/mlflow/traces/get', query: { trace_id: 'tr-9d52d60307ae9b86236429e8d4d167fa' } }),
      );
      assert.equal(
        internal.message,
        'GET /api/3.0/mlflow/traces/get failed: HTTP 500 INTERNAL_ERROR: Trace data not stored in tracking store',
      );
      assert.equal(internal.exitCode, ExitCode.export);
      const contentType = await failure(http.request({ method: 'POST', path: '/v1/traces?case=content-type' }));
      assert.equal(contentType.exitCode, ExitCode.export);
      assert.equal(contentType.detail, 'Invalid Content-Type: application/json. Expected: application/x-protobuf');
    });

    it('describes a raw failed answer in one line and builds the same error from it', async () => {
      const raw = await http.request({ method: 'POST', path: '/v1/traces?case=filestore', raw: true });
      assert.equal(raw.status, 501);
      assert.deepEqual(raw.json, { detail: 'REST OTLP span logging is not supported by FileStore' });
      assert.equal(describeErrorBody(raw), 'HTTP 501: REST OTLP span logging is not supported by FileStore');
      const error = MlflowApiError.fromResponse('POST', '/v1/traces', raw);
      assert.equal(error.exitCode, ExitCode.otlpUnavailable);
    });
  });

  describe('who refused: proxy or MLflow', () => {
    it('says a 401 came from the proxy when nginx answered with its own page', async () => {
      const error = await failure(http.request({ method: 'GET', path: '/proxy-401' }));
      assert.equal(error.fromProxy, true);
      assert.equal(error.server, 'nginx/1.25.3');
      assert.equal(error.exitCode, ExitCode.auth);
      assert.match(error.message, /rejected by a proxy \(nginx\/1\.25\.3\), not by MLflow/);
      assert.match(error.message, /401 Authorization Required/);
    });

    it('says so too when a gateway without a Server header answers with non-MLflow JSON', async () => {
      const error = await failure(http.request({ method: 'GET', path: '/gateway-401' }));
      assert.equal(error.fromProxy, true);
      assert.match(error.message, /something in front of MLflow/);
    });

    it("attributes MLflow's basic-auth 401 to MLflow and names the credentials sent", async () => {
      const basic = client(server, { kind: 'basic', username: src('alice'), password: src('pw-secret-1') });
      const error = await failure(basic.request({ method: 'GET', path: '/mlflow-401' }));
      assert.equal(error.fromProxy, false);
      assert.equal(error.exitCode, ExitCode.auth);
      assert.match(error.message, /^GET \/mlflow-401 failed: HTTP 401: You are not authenticated/);
      assert.match(error.hint ?? '', /Basic \(user alice\)/);
    });

    it('tells the user to set credentials when none were sent', async () => {
      const error = await failure(http.request({ method: 'GET', path: '/mlflow-401' }));
      assert.match(error.hint ?? '', /none were sent: set MLFLOW_TRACKING_USERNAME/);
    });

    it("recognises MLflow's 403 body even behind nginx", async () => {
      const error = await failure(http.request({ method: 'GET', path: '/mlflow-403-behind-nginx' }));
      assert.equal(error.fromProxy, false);
      assert.equal(error.exitCode, ExitCode.auth);
    });

    it('reads a Databricks 403 JSON as an auth failure from the server itself', async () => {
      const error = await failure(http.request({ method: 'GET', path: '/databricks-403' }));
      assert.equal(error.fromProxy, false);
      assert.equal(error.errorCode, 'PERMISSION_DENIED');
      assert.equal(error.exitCode, ExitCode.auth);
    });

    it('does not retry static credentials after a 401', async () => {
      const before = server.seen.length;
      const bearer = client(server, { kind: 'bearer', token: src('tok-static-1') });
      await failure(bearer.request({ method: 'GET', path: '/mlflow-401' }));
      assert.equal(server.seen.length - before, 1);
    });
  });

  describe('credentials on the wire', () => {
    const cases: [string, AuthSettings, string | undefined][] = [
      [
        'Basic',
        { kind: 'basic', username: src('alice'), password: src('pässword') },
        `Basic ${Buffer.from('alice:pässword').toString('base64')}`,
      ],
      ['Bearer', { kind: 'bearer', token: src('tok-123') }, 'Bearer tok-123'],
      ['a Databricks PAT as Bearer', { kind: 'databricks-pat', token: src('dapi123') }, 'Bearer dapi123'],
      ['nothing without auth', { kind: 'none' }, undefined],
    ];
    for (const [name, settings, expected] of cases) {
      it(`sends ${name}`, async () => {
        const echoed = await client(server, settings).request<{ headers: Record<string, string> }>({ method: 'GET', path: '/echo' });
        assert.equal(echoed.headers.authorization, expected);
      });
    }

    it('leaves the credentials off when a request says auth: false', async () => {
      const bearer = client(server, { kind: 'bearer', token: src('tok-123') });
      const echoed = await bearer.request<{ headers: Record<string, string> }>({ method: 'GET', path: '/echo', auth: false });
      assert.equal(echoed.headers.authorization, undefined);
    });

    it('masks the credential when a server echoes it back in an error', async () => {
      const echo = await startAnswerServer((req, res) =>
        answer(
          res,
          400,
          JSON.stringify({ error_code: 'BAD_REQUEST', message: `bad header ${req.headers.authorization} (password pw-secret-1)` }),
        ),
      );
      try {
        const basic = client(echo, { kind: 'basic', username: src('alice'), password: src('pw-secret-1') });
        const error = await failure(basic.request({ method: 'GET', path: '/x' }));
        const raw = await basic.request({ method: 'GET', path: '/x', raw: true });
        const encoded = Buffer.from('alice:pw-secret-1').toString('base64');
        for (const shown of [error.message, error.hint ?? '', error.detail, describeErrorBody(raw)]) {
          assert.ok(!shown.includes('pw-secret-1') && !shown.includes(encoded), shown);
        }
        assert.match(error.detail, /bad header \*\*\*/);
      } finally {
        await echo.close();
      }
    });
  });

  describe('requests and answers', () => {
    it('joins a base URL with a path prefix, repeats array parameters and sends JSON', async () => {
      const prefixed = client(server, { kind: 'none' }, `${server.url}/echo/`);
      const echoed = await prefixed.request<{ url: string; body: string; headers: Record<string, string> }>({
        method: 'POST',
        path: '/api/3.0/mlflow/traces/batchGet',
        query: { trace_ids: ['tr-a', 'tr-b'] },
        json: { x: 1 },
      });
      assert.equal(echoed.url, '/echo/api/3.0/mlflow/traces/batchGet?trace_ids=tr-a&trace_ids=tr-b');
      assert.equal(echoed.body, '{"x":1}');
      assert.equal(echoed.headers['content-type'], 'application/json');
      assert.match(echoed.headers['user-agent'] ?? '', /^otel-mlflow/);
    });

    it('reads an empty success body as {} (MLflow leaves empty fields out)', async () => {
      assert.deepEqual(await http.request({ method: 'POST', path: '/empty' }), {});
    });

    it('parses JSON labelled text/plain and keeps nanosecond integers exact', async () => {
      const file = await http.request<{ spans: { start_time_unix_nano: bigint; n: number }[] }>({ method: 'GET', path: '/artifact' });
      assert.equal(file.spans[0]?.start_time_unix_nano, 1795537037654363429n);
      assert.equal(file.spans[0]?.n, 7);
    });

    it('refuses a 200 HTML page where JSON was expected, naming what came back', async () => {
      const error = await failure(http.request({ method: 'GET', path: '/login-page' }));
      assert.equal(error.message, 'GET /login-page answered 200 with an HTML page "Sign in" instead of MLflow\'s JSON');
      assert.equal(error.exitCode, ExitCode.unreachable);
    });

    it('answers any status in raw mode without throwing', async () => {
      const raw = await http.request({ method: 'GET', path: '/proxy-401', raw: true });
      assert.equal(raw.status, 401);
      assert.equal(raw.headers.get('server'), 'nginx/1.25.3');
      assert.match(raw.text, /401 Authorization Required/);
      assert.equal(raw.json, undefined);
    });
  });
});
