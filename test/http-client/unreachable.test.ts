import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { createMlflowHttp } from '../../src/mlflow/http.ts';
import { toUnreachableError, UnreachableError } from '../../src/http-client/unreachable.ts';
import { answer, startAnswerServer } from '../mlflow/answer-server.ts';

function httpTo(baseUrl: string, timeoutMs?: number) {
  return createMlflowHttp({ baseUrl, auth: createAuthProvider({ kind: 'none' }), ...(timeoutMs ? { timeoutMs } : {}) });
}

async function unreachable(promise: Promise<unknown>): Promise<UnreachableError> {
  const error = await promise.then(
    () => assert.fail('expected the request to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof UnreachableError, `expected UnreachableError, got ${String(error)}`);
  assert.equal(error.exitCode, ExitCode.unreachable);
  return error;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('when no HTTP answer arrives', () => {
  it('says the connection was refused, naming host:port', async () => {
    const port = await closedPort();
    const error = await unreachable(httpTo(`http://127.0.0.1:${port}`).request({ method: 'GET', path: '/version' }));
    assert.equal(error.kind, 'refused');
    assert.equal(error.host, `127.0.0.1:${port}`);
    assert.equal(error.message, `Nothing is listening at 127.0.0.1:${port} (connection refused) for GET /version`);
    assert.match(error.hint ?? '', /Start the MLflow server/);
  });

  it('says the name did not resolve', async () => {
    const error = await unreachable(httpTo('http://mlflow.invalid:5000').request({ method: 'GET', path: '/health' }));
    assert.equal(error.kind, 'dns');
    assert.equal(error.host, 'mlflow.invalid:5000');
    assert.match(error.message, /^Cannot resolve mlflow\.invalid \(DNS lookup failed: E[A-Z_]+\) for GET \/health$/);
  });

  it('says the server did not answer in time', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const error = await unreachable(httpTo(`http://127.0.0.1:${port}`, 100).request({ method: 'GET', path: '/version' }));
      assert.equal(error.kind, 'timeout');
      assert.equal(error.message, `No answer from 127.0.0.1:${port} within 0.1 s for GET /version`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('says TLS failed when https:// meets a plain-HTTP port, and suggests http://', async () => {
    const plain = await startAnswerServer((_req, res) => answer(res, 200, 'OK'));
    try {
      const error = await unreachable(httpTo(plain.url.replace('http:', 'https:')).request({ method: 'GET', path: '/health' }));
      assert.equal(error.kind, 'tls');
      assert.match(error.hint ?? '', /use http:\/\//);
    } finally {
      await plain.close();
    }
  });

  it('fails the OAuth token request the same way, before any API call', async () => {
    const port = await closedPort();
    const auth = createAuthProvider(
      {
        kind: 'databricks-oauth-m2m',
        clientId: { value: 'id', source: { kind: 'default' } },
        clientSecret: { value: 'secret-123', source: { kind: 'default' } },
      },
      { host: `http://127.0.0.1:${port}` },
    );
    const error = await unreachable(auth.headers());
    assert.equal(error.kind, 'refused');
    assert.match(error.message, /for POST \/oidc\/v1\/token$/);
  });

  it("never shows a signed URL's query", async () => {
    const port = await closedPort();
    const error = await unreachable(
      httpTo('http://127.0.0.1:1').request({
        method: 'GET',
        path: `http://127.0.0.1:${port}/bucket/traces.json?sig=SIGNATURE`,
        auth: false,
      }),
    );
    assert.doesNotMatch(error.message, /SIGNATURE/);
    assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+\/bucket\/traces\.json$/);
  });
});

describe('classifying what fetch throws', () => {
  const target = { method: 'GET', url: new URL('https://mlflow.example.com/version'), shownPath: '/version', timeoutMs: 30_000 };
  const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });
  const coded = (code: string) => Object.assign(new Error(code), { code });

  const cases: [string, unknown, string][] = [
    ['an expired certificate', fetchFailed(coded('CERT_HAS_EXPIRED')), 'tls'],
    ['a self-signed certificate', fetchFailed(coded('DEPTH_ZERO_SELF_SIGNED_CERT')), 'tls'],
    ['a certificate for another name', fetchFailed(coded('ERR_TLS_CERT_ALTNAME_INVALID')), 'tls'],
    ['a temporary DNS failure', fetchFailed(coded('EAI_AGAIN')), 'dns'],
    [
      'refusals on both addresses (happy eyeballs)',
      fetchFailed(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')])),
      'refused',
    ],
    ['a connect timeout', fetchFailed(coded('UND_ERR_CONNECT_TIMEOUT')), 'timeout'],
    ['a reset connection', fetchFailed(coded('ECONNRESET')), 'network'],
  ];
  for (const [name, thrown, kind] of cases) {
    it(`reads ${name} as ${kind}`, () => {
      const error = toUnreachableError(thrown, target);
      assert.ok(error instanceof UnreachableError);
      assert.equal(error.kind, kind);
      assert.equal(error.host, 'mlflow.example.com:443');
    });
  }

  it('suggests NODE_EXTRA_CA_CERTS for a private CA', () => {
    const error = toUnreachableError(fetchFailed(coded('SELF_SIGNED_CERT_IN_CHAIN')), target) as UnreachableError;
    assert.match(error.hint ?? '', /NODE_EXTRA_CA_CERTS/);
  });

  it('leaves errors that are not network failures alone', () => {
    const bug = new TypeError('Cannot read properties of undefined');
    assert.equal(toUnreachableError(bug, target), bug);
  });
});
