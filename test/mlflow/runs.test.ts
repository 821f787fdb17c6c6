import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import type { ResolvedConfig } from '../../src/config/types.ts';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { refuseRunWithoutExperiment } from '../../src/mlflow/check-run.ts';
import { checkTargetRun } from '../../src/destination/resolve.ts';
import { isExperimentTarget, targetOf } from '../../src/destination/target.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { createRun, endRun, getRun, linkTracesToRun, logRunData, searchRuns } from '../../src/mlflow/runs.ts';
import { downloadRunArtifact, uploadRunArtifact } from '../../src/mlflow/run-artifacts.ts';
import { MlflowApiError } from '../../src/mlflow/errors.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { closedPortUrl } from '../cli/closed-port.ts';

/** What every command does before anything is created or sent: the resolver's first step. */
async function checkConfiguredRun(config: ResolvedConfig, http: MlflowHttp | undefined) {
  refuseRunWithoutExperiment(config);
  const target = targetOf(config);
  return isExperimentTarget(target) ? checkTargetRun(http!, target) : undefined;
}

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
    const run = await getRun(http, runId);
    assert.deepEqual(
      {
        id: run?.runId,
        experimentId: run?.experimentId,
        name: run?.name,
        stage: run?.lifecycleStage,
        status: run?.status,
        tags: run?.tags,
      },
      { id: runId, experimentId, name: 'eval-1', stage: 'active', status: 'RUNNING', tags: { 'mlflow.runName': 'eval-1' } },
    );
    assert.equal(run?.artifactUri, `mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
    assert.equal(await getRun(http, '0123456789abcdef0123456789abcdef'), undefined);
  });

  it('links traces to a run in requests of at most 100 ids', async () => {
    const traceIds = Array.from({ length: 250 }, (_, i) => `tr-${i.toString(16).padStart(32, '0')}`);
    const before = server.requests.length;
    await linkTracesToRun(http, runId, traceIds);
    const links = server.requests.slice(before).filter((r) => r.path === '/api/2.0/mlflow/traces/link-to-run');
    // The fake refuses more than 100 ids in one request, as MLflow does.
    assert.deepEqual(
      links.map((r) => r.status),
      [200, 200, 200],
    );
  });

  it('throws a typed error when the server cannot be reached', async () => {
    const down = createMlflowHttp({ baseUrl: await closedPortUrl(), auth: createAuthProvider({ kind: 'none' }) });
    await assert.rejects(
      linkTracesToRun(down, runId, ['tr-1']),
      (error) => error instanceof ExpectedError && error.exitCode === ExitCode.unreachable,
    );
  });

  it('creates a run with its tags, logs params, metrics and tags, and ends it', async () => {
    const created = await createRun(http, {
      experimentId,
      name: 'suite-1',
      startTime: 1_700_000_000_000,
      tags: { 'otel-mlflow.suite': 'true' },
    });
    assert.equal(created.status, 'RUNNING');
    assert.equal(created.startTime, 1_700_000_000_000);
    await logRunData(http, created.runId, {
      params: { model: 'gpt' },
      metrics: { pass_rate: 0.5 },
      tags: { note: 'x' },
      timestamp: 1_700_000_001_000,
    });
    await endRun(http, created.runId, 'FINISHED', 1_700_000_002_000);
    const run = await getRun(http, created.runId);
    assert.deepEqual(run?.params, { model: 'gpt' });
    assert.deepEqual(run?.metrics, { pass_rate: 0.5 });
    assert.equal(run?.tags['otel-mlflow.suite'], 'true');
    assert.equal(run?.tags.note, 'x');
    assert.equal(run?.status, 'FINISHED');
    assert.equal(run?.endTime, 1_700_000_002_000);
  });

  it("splits a log-batch to MLflow's limits (100 params per request)", async () => {
    const created = await createRun(http, { experimentId, name: 'many', startTime: Date.now(), tags: {} });
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, String(i)]));
    const before = server.requests.length;
    await logRunData(http, created.runId, { params, timestamp: Date.now() });
    const batches = server.requests.slice(before).filter((r) => r.path === '/api/2.0/mlflow/runs/log-batch');
    assert.deepEqual(
      batches.map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal(Object.keys((await getRun(http, created.runId))!.params).length, 250);
  });

  it('a param logged again with another value is refused (400 INVALID_PARAMETER_VALUE); an unknown run is 404', async () => {
    const created = await createRun(http, { experimentId, name: 'fixed', startTime: Date.now(), tags: {} });
    await logRunData(http, created.runId, { params: { model: 'a' }, timestamp: Date.now() });
    await logRunData(http, created.runId, { params: { model: 'a' }, timestamp: Date.now() });
    await assert.rejects(
      logRunData(http, created.runId, { params: { model: 'b' }, timestamp: Date.now() }),
      (error) =>
        error instanceof MlflowApiError &&
        error.status === 400 &&
        error.errorCode === 'INVALID_PARAMETER_VALUE' &&
        /Changing param values is not allowed/.test(error.message),
    );
    await assert.rejects(
      endRun(http, 'f'.repeat(32), 'FINISHED', Date.now()),
      (error) => error instanceof MlflowApiError && error.status === 404,
    );
  });

  it('finds finished runs by tag, newest first', async () => {
    const experiment = server.createExperiment('search');
    const older = await createRun(http, {
      experimentId: experiment,
      name: 'older',
      startTime: 1000,
      tags: { 'otel-mlflow.suite': 'true' },
    });
    const newer = await createRun(http, {
      experimentId: experiment,
      name: 'newer',
      startTime: 2000,
      tags: { 'otel-mlflow.suite': 'true' },
    });
    await createRun(http, { experimentId: experiment, name: 'other', startTime: 3000, tags: {} });
    await endRun(http, older.runId, 'FINISHED', 1500);
    await endRun(http, newer.runId, 'FINISHED', 2500);
    const found = await searchRuns(http, {
      experimentIds: [experiment],
      filter: "tags.`otel-mlflow.suite` = 'true' AND attributes.status = 'FINISHED'",
      orderBy: ['attributes.start_time DESC'],
    });
    assert.deepEqual(
      found.map((run) => run.name),
      ['newer', 'older'],
    );
  });

  it('uploads a run artifact through the artifact proxy and reads it back; a missing one reads as undefined', async () => {
    const run = (await getRun(http, runId))!;
    await uploadRunArtifact(http, run.artifactUri, 'suite-results.jsonl', '{"a":1}\n', 'application/x-ndjson');
    assert.equal(await downloadRunArtifact(http, run.artifactUri, 'suite-results.jsonl'), '{"a":1}\n');
    assert.equal(await downloadRunArtifact(http, run.artifactUri, 'missing.jsonl'), undefined);
    await assert.rejects(
      uploadRunArtifact(http, 'dbfs:/databricks/mlflow-tracking/1/r/artifacts', 'x', '', 'text/plain'),
      /does not proxy/,
    );
  });

  describe('checking the configured run before any work', () => {
    it('accepts a run of the experiment the traces go to, by name or by id', async () => {
      const named = await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: runId, MLFLOW_EXPERIMENT_NAME: 'app' });
      assert.equal((await checkConfiguredRun(named, http))?.runId, runId);
      const byId = await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: runId, MLFLOW_EXPERIMENT_ID: experimentId });
      assert.equal((await checkConfiguredRun(byId, http))?.runId, runId);
    });

    it('refuses an unknown run, saying where the id came from', async () => {
      const error = await refusal(
        checkConfiguredRun(
          await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: 'f'.repeat(32), MLFLOW_EXPERIMENT_NAME: 'app' }),
          http,
        ),
      );
      assert.equal(error.exitCode, ExitCode.config);
      assert.match(error.message, /MLflow run f{32} \(from env MLFLOW_RUN_ID\) does not exist/);
      assert.match(error.hint ?? '', /run id/);
    });

    it('refuses a deleted run with the command that restores it', async () => {
      const deleted = server.createRun(experimentId, 'gone');
      server.deleteRun(deleted);
      const error = await refusal(
        checkConfiguredRun(
          await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: deleted, MLFLOW_EXPERIMENT_NAME: 'app' }),
          http,
        ),
      );
      assert.match(error.message, /is deleted/);
      assert.match(error.hint ?? '', new RegExp(`mlflow runs restore --run-id ${deleted}`));
    });

    it('refuses a run of another experiment: MLflow would not find the traces by it', async () => {
      const other = server.createExperiment('elsewhere');
      const foreign = server.createRun(other, 'foreign');
      const error = await refusal(
        checkConfiguredRun(
          await configFrom({ MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: foreign, MLFLOW_EXPERIMENT_NAME: 'app' }),
          http,
        ),
      );
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
