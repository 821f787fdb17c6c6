import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import type { ResolvedConfig } from '../../src/config/types.ts';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/mlflow/auth.ts';
import { checkConfiguredRun } from '../../src/mlflow/check-run.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { getRun, linkTracesToRun } from '../../src/mlflow/runs.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { closedPortUrl } from '../cli/closed-port.ts';

/** The config a command would resolve from these variables (a bare directory: no .env, no config file). */
async function configFrom(env: Record<string, string>): Promise<ResolvedConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-runs-'));
  try {
    return await loadConfig({ cwd: dir, homeDir: dir, env, flags: {}, purpose: 'app' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function refusal(work: Promise<unknown>): Promise<ExpectedError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ExpectedError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

describe('MLflow runs', () => {
  let server: FakeMlflow;
  let http: MlflowHttp;
  let experimentId: string;
  let runId: string;
  before(async () => {
    server = await startFakeMlflow({ version: '3.8.1' });
    http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
    experimentId = server.createExperiment('app');
    runId = server.createRun(experimentId, 'eval-1');
  });
  after(() => server.close());

  it('reads a run, and answers undefined for an unknown one', async () => {
    assert.deepEqual(await getRun(http, runId), { runId, experimentId, name: 'eval-1', lifecycleStage: 'active' });
    assert.equal(await getRun(http, '0123456789abcdef0123456789abcdef'), undefined);
  });

  it('links traces to a run in requests of at most 100 ids', async () => {
    const traceIds = Array.from({ length: 250 }, (_, i) => `tr-${i.toString(16).padStart(32, '0')}`);
    const before = server.requests.length;
    await linkTracesToRun(http, runId, traceIds);
    const links = server.requests.slice(before).filter((r) => r.path === '/api/2.0/mlflow/traces/link-to-run');
    // The fake refuses more than 100 ids in one request, as MLflow does.
    assert.deepEqual(links.map((r) => r.status), [200, 200, 200]);
  });

  it('throws a typed error when the server cannot be reached', async () => {
    const down = createMlflowHttp({ baseUrl: await closedPortUrl(), auth: createAuthProvider({ kind: 'none' }) });
    await assert.rejects(linkTracesToRun(down, runId, ['tr-1']), (error) => error instanceof ExpectedError && error.exitCode === ExitCode.unreachable);
  });

  describe('checking the configured run before any work', () => {
    it('accepts a run of the experiment the traces go to, by name or by id', async () => {
      const named = await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: runId, MLFLOW_EXPERIMENT_NAME: 'app' });
      assert.equal((await checkConfiguredRun(named, http))?.runId, runId);
      const byId = await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: runId, MLFLOW_EXPERIMENT_ID: experimentId });
      assert.equal((await checkConfiguredRun(byId, http))?.runId, runId);
    });

    it('refuses an unknown run, saying where the id came from', async () => {
      const error = await refusal(checkConfiguredRun(await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: 'f'.repeat(32), MLFLOW_EXPERIMENT_NAME: 'app' }), http));
      assert.equal(error.exitCode, ExitCode.config);
      assert.match(error.message, /MLflow run f{32} \(from env MLFLOW_RUN_ID\) does not exist/);
      assert.match(error.hint ?? '', /run id/);
    });

    it('refuses a deleted run with the command that restores it', async () => {
      const deleted = server.createRun(experimentId, 'gone');
      server.deleteRun(deleted);
      const error = await refusal(checkConfiguredRun(await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: deleted, MLFLOW_EXPERIMENT_NAME: 'app' }), http));
      assert.match(error.message, /is deleted/);
      assert.match(error.hint ?? '', new RegExp(`mlflow runs restore --run-id ${deleted}`));
    });

    it("refuses a run of another experiment: MLflow would not find the traces by it", async () => {
      const other = server.createExperiment('elsewhere');
      const foreign = server.createRun(other, 'foreign');
      const error = await refusal(checkConfiguredRun(await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: foreign, MLFLOW_EXPERIMENT_NAME: 'app' }), http));
      assert.match(error.message, new RegExp(`is in experiment 'elsewhere' \\(id ${other}\\), but the traces go to experiment 'app'`));
      assert.match(error.hint ?? '', new RegExp(`--experiment-id ${other}`));
    });

    it('refuses a run id where traces go to no MLflow experiment', async () => {
      const error = await refusal(checkConfiguredRun(await configFrom({ MLFLOW_RUN_ID: runId }), undefined));
      assert.match(error.message, /the local store keeps none/);
    });

    it('does nothing without a run id', async () => {
      assert.equal(await checkConfiguredRun(await configFrom({ MLFLOW_TRACKING_URI: server.url }), http), undefined);
    });
  });
});
