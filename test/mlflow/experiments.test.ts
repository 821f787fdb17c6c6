import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { ensureExperiment } from '../../src/mlflow/ensure-experiment.ts';
import { MlflowApiError } from '../../src/mlflow/errors.ts';
import { createExperiment, getExperiment, getExperimentByName, restoreExperiment } from '../../src/mlflow/experiments.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { answer, FLASK_404_PAGE, startAnswerServer, type AnswerServer } from './answer-server.ts';

/** Answers of MLflow 3.14.1.dev0 (misc.txt), keyed by method and path with query. */
const ANSWERS: Record<string, [number, string]> = {
  'GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=demo': [
    200,
    '{"experiment": {"experiment_id": "1", "name": "demo", "artifact_location": "mlflow-artifacts:/1", "lifecycle_stage": "active", "last_update_time": 1795539526246, "creation_time": 1795539526246, "workspace": "default"}}',
  ],
  'GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=old': [
    200,
    '{"experiment": {"experiment_id": "7", "name": "old", "artifact_location": "mlflow-artifacts:/7", "lifecycle_stage": "deleted", "last_update_time": 1795539526328, "creation_time": 1795539526246, "workspace": "default"}}',
  ],
  'GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=nope': [
    404,
    '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Could not find experiment with name \'nope\'", "sqlstate": "KAM00", "error_class": "RESOURCE_NOT_FOUND"}',
  ],
  'GET /api/2.0/mlflow/experiments/get?experiment_id=1': [
    200,
    '{"experiment": {"experiment_id": "1", "name": "demo", "artifact_location": "mlflow-artifacts:/1", "lifecycle_stage": "active"}}',
  ],
  'GET /api/2.0/mlflow/experiments/get?experiment_id=999999': [
    404,
    '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No Experiment with id=999999 exists"}',
  ],
  'POST /api/2.0/mlflow/experiments/create {"name":"fresh"}': [200, '{\n  "experiment_id": "2"\n}'],
  'POST /api/2.0/mlflow/experiments/create {"name":"demo"}': [
    400,
    '{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Experiment(name=demo) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.workspace, experiments.name", "sqlstate": "KAM00", "error_class": "RESOURCE_ALREADY_EXISTS"}',
  ],
  'POST /api/2.0/mlflow/experiments/restore {"experiment_id":"7"}': [200, '{}'],
};

describe('experiments', () => {
  let server: AnswerServer;
  let http: MlflowHttp;
  before(async () => {
    server = await startAnswerServer((req, res) => {
      const key = req.method === 'POST' ? `${req.method} ${req.url} ${req.body}` : `${req.method} ${req.url}`;
      const found = ANSWERS[key];
      if (found) return answer(res, ...found);
      answer(res, 404, FLASK_404_PAGE, { 'content-type': 'text/html' });
    });
    http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
  });
  after(() => server.close());

  it('finds an experiment by name', async () => {
    assert.deepEqual(await getExperimentByName(http, 'demo'), {
      experimentId: '1',
      name: 'demo',
      lifecycleStage: 'active',
      artifactLocation: 'mlflow-artifacts:/1',
    });
  });

  it('returns a deleted experiment too, marked deleted', async () => {
    assert.equal((await getExperimentByName(http, 'old'))?.lifecycleStage, 'deleted');
  });

  it('answers undefined for a name nobody uses', async () => {
    assert.equal(await getExperimentByName(http, 'nope'), undefined);
  });

  it('gets an experiment by id, or undefined for an unknown id', async () => {
    assert.equal((await getExperiment(http, '1'))?.name, 'demo');
    assert.equal(await getExperiment(http, '999999'), undefined);
  });

  it('creates an experiment and returns its id', async () => {
    assert.equal(await createExperiment(http, 'fresh'), '2');
  });

  it('fails to create a taken name with an experiment error', async () => {
    await assert.rejects(createExperiment(http, 'demo'), (e: unknown) => {
      assert.ok(e instanceof MlflowApiError);
      assert.equal(e.errorCode, 'RESOURCE_ALREADY_EXISTS');
      assert.equal(e.exitCode, ExitCode.experiment);
      assert.match(e.hint ?? '', /restore it/);
      return true;
    });
  });

  it('uses the experiment another process created between the lookup and the create, instead of failing on the duplicate', async () => {
    const ref = { kind: 'name', name: { value: 'demo', source: { kind: 'derived', from: 'a test' } } } as const;
    // Looked up before the other process created it: missing then.
    const ensured = await ensureExperiment(http, ref, {
      createMissing: true,
      restoreDeleted: false,
      found: undefined,
      experimentHint: 'pick another',
    });
    assert.equal(ensured.action, 'found');
    assert.equal(ensured.experiment.experimentId, '1');
  });

  it('restores a deleted experiment', async () => {
    await restoreExperiment(http, '7');
    assert.equal(server.seen.at(-1)?.body, '{"experiment_id":"7"}');
  });

  it('fails instead of answering "missing" when the route itself is missing (wrong base URL)', async () => {
    const wrongBase = createMlflowHttp({ baseUrl: `${server.url}/not-mlflow`, auth: createAuthProvider({ kind: 'none' }) });
    await assert.rejects(
      getExperimentByName(wrongBase, 'demo'),
      (e: unknown) => e instanceof MlflowApiError && e.exitCode === ExitCode.unreachable,
    );
  });
});
