import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { createMlflowHttp } from '../../src/mlflow/http.ts';
import { capabilitiesFor, checkHealth, compareVersions, getServerVersion, type ServerCapabilities } from '../../src/mlflow/server-info.ts';
import { answer, startAnswerServer, type AnswerServer } from './answer-server.ts';

type Row = Omit<ServerCapabilities, 'version'>;

/** The "How the servers differ" table of mlflow-protocol.md, one row per observed server. */
const OBSERVED: Record<string, Row> = {
  '3.6.0': {
    otlpProtobuf: true,
    otlpGzip: false,
    otlpJson: false,
    otlpCharsetOk: false,
    allOrNothingBatches: false,
    unknownExperimentStatus: 422,
    sessionMetadata: 'none',
    metadataJsonQuoted: false,
    traceTagsFromRoot: false,
    otlpRunHeader: false,
  },
  '3.7.0': {
    otlpProtobuf: true,
    otlpGzip: true,
    otlpJson: false,
    otlpCharsetOk: false,
    allOrNothingBatches: false,
    unknownExperimentStatus: 422,
    sessionMetadata: 'session',
    metadataJsonQuoted: true,
    traceTagsFromRoot: false,
    otlpRunHeader: false,
  },
  '3.8.1': {
    otlpProtobuf: true,
    otlpGzip: true,
    otlpJson: false,
    otlpCharsetOk: false,
    allOrNothingBatches: false,
    unknownExperimentStatus: 422,
    sessionMetadata: 'session',
    metadataJsonQuoted: true,
    traceTagsFromRoot: false,
    otlpRunHeader: false,
  },
  '3.11.1': {
    otlpProtobuf: true,
    otlpGzip: true,
    otlpJson: false,
    otlpCharsetOk: false,
    allOrNothingBatches: true,
    unknownExperimentStatus: 404,
    sessionMetadata: 'session',
    metadataJsonQuoted: true,
    traceTagsFromRoot: false,
    otlpRunHeader: false,
  },
  '3.12.1.dev0': {
    otlpProtobuf: true,
    otlpGzip: true,
    otlpJson: true,
    otlpCharsetOk: true,
    allOrNothingBatches: true,
    unknownExperimentStatus: 404,
    sessionMetadata: 'session+user',
    metadataJsonQuoted: true,
    traceTagsFromRoot: true,
    otlpRunHeader: false,
  },
  '3.14.1.dev0': {
    otlpProtobuf: true,
    otlpGzip: true,
    otlpJson: true,
    otlpCharsetOk: true,
    allOrNothingBatches: true,
    unknownExperimentStatus: 404,
    sessionMetadata: 'session+user',
    metadataJsonQuoted: false,
    traceTagsFromRoot: true,
    otlpRunHeader: true,
  },
};

describe('capabilitiesFor', () => {
  for (const [version, row] of Object.entries(OBSERVED)) {
    it(`matches what MLflow ${version} was observed to do`, () => {
      assert.deepEqual(capabilitiesFor(version), { version, ...row });
    });
  }

  it('gives servers older than 3.6 no OTLP route', () => {
    assert.equal(capabilitiesFor('3.5.1').otlpProtobuf, false);
    assert.equal(capabilitiesFor('2.22.0').otlpProtobuf, false);
  });

  it('gives newer and unparseable versions the newest row', () => {
    const newest = OBSERVED['3.14.1.dev0'];
    assert.deepEqual(capabilitiesFor('4.0.0'), { version: '4.0.0', ...newest });
    assert.deepEqual(capabilitiesFor('main-build'), { version: 'main-build', ...newest });
  });

  it('keeps a release between observed rows on the older row (3.12.0 predates the 3.12.1.dev0 build)', () => {
    assert.equal(capabilitiesFor('3.12.0').otlpJson, false);
    assert.equal(capabilitiesFor('3.13.0').otlpJson, true);
  });
});

describe('compareVersions', () => {
  it('orders versions as PEP 440 does', () => {
    const ordered = [
      '3.6.0',
      '3.8.1',
      '3.11.1',
      '3.12.0',
      '3.12.1.dev0',
      '3.12.1rc1',
      '3.12.1',
      '3.12.1.post1',
      '3.14.1.dev0',
      '3.14.1.dev2',
      '4.0',
    ];
    const shuffled = [...ordered].reverse();
    assert.deepEqual(shuffled.sort(compareVersions), ordered);
  });

  it('treats missing release parts as zero', () => {
    assert.equal(compareVersions('3.8', '3.8.0'), 0);
  });
});

describe('/version and /health', () => {
  let mlflow: AnswerServer;
  let notMlflow: AnswerServer;
  const httpFor = (server: AnswerServer) => createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
  before(async () => {
    // MLflow labels both plain-text answers text/html.
    mlflow = await startAnswerServer((req, res) =>
      answer(res, 200, req.url === '/version' ? '3.12.1.dev0' : 'OK', { 'content-type': 'text/html; charset=utf-8', server: 'uvicorn' }),
    );
    notMlflow = await startAnswerServer((_req, res) =>
      answer(res, 200, '<!doctype html><html><head><title>Grafana</title></head></html>', { 'content-type': 'text/html' }),
    );
  });
  after(async () => {
    await mlflow.close();
    await notMlflow.close();
  });

  it('reads the version as plain text', async () => {
    assert.equal(await getServerVersion(httpFor(mlflow)), '3.12.1.dev0');
  });

  it('accepts OK from /health', async () => {
    await checkHealth(httpFor(mlflow));
  });

  it('says when the URL serves something other than MLflow', async () => {
    for (const call of [getServerVersion, checkHealth]) {
      await assert.rejects(call(httpFor(notMlflow)), (e: unknown) => {
        assert.ok(e instanceof ExpectedError);
        assert.equal(e.exitCode, ExitCode.unreachable);
        assert.match(e.message, /answered 200 with HTML page "Grafana"/);
        return true;
      });
    }
  });
});
