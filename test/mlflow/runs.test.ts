import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ResolvedConfig, Sourced } from '../../src/config/types.ts';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { createAuthProvider } from '../../src/mlflow/auth.ts';
import { checkConfiguredRun } from '../../src/mlflow/check-run.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { getRun, linkTracesToRun } from '../../src/mlflow/runs.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { closedPortUrl } from '../cli/closed-port.ts';

const env = (name: string) => ({ kind: 'env', name }) as const;

function configFor(url: string, runId: string, experiment: ResolvedConfig['experiment']): ResolvedConfig {
  const source = { kind: 'default' } as const;
  return {
    destination: { kind: 'mlflow', trackingUri: { value: url, source } },
    auth: { kind: 'none' },
    experiment,
    exportPath: { value: 'auto', source },
    otlpEncoding: { value: 'protobuf', source },
    runId: { value: runId, source: env('MLFLOW_RUN_ID') },
    serviceName: { value: 'test', source },
    resourceAttributes: { value: {}, source },
    openai: {},
    llm: { captureContent: { value: true, source } },
    storeDir: { value: '/nonexistent/otel-mlflow-store', source },
    files: {},
    entries: [],
  };
}

const byName = (name: string): ResolvedConfig['experiment'] => ({ kind: 'name', name: { value: name, source: env('MLFLOW_EXPERIMENT_NAME') } });
const byId = (id: string): ResolvedConfig['experiment'] => ({ kind: 'id', id: { value: id, source: env('MLFLOW_EXPERIMENT_ID') } as Sourced<string> });

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
      assert.equal((await checkConfiguredRun(configFor(server.url, runId, byName('app')), http))?.runId, runId);
      assert.equal((await checkConfiguredRun(configFor(server.url, runId, byId(experimentId)), http))?.runId, runId);
    });

    it('refuses an unknown run, saying where the id came from', async () => {
      const error = await refusal(checkConfiguredRun(configFor(server.url, 'f'.repeat(32), byName('app')), http));
      assert.equal(error.exitCode, ExitCode.config);
      assert.match(error.message, /MLflow run f{32} \(from env MLFLOW_RUN_ID\) does not exist/);
      assert.match(error.hint ?? '', /run id/);
    });

    it('refuses a deleted run with the command that restores it', async () => {
      const deleted = server.createRun(experimentId, 'gone');
      server.deleteRun(deleted);
      const error = await refusal(checkConfiguredRun(configFor(server.url, deleted, byName('app')), http));
      assert.match(error.message, /is deleted/);
      assert.match(error.hint ?? '', new RegExp(`mlflow runs restore --run-id ${deleted}`));
    });

    it("refuses a run of another experiment: MLflow would not find the traces by it", async () => {
      const other = server.createExperiment('elsewhere');
      const foreign = server.createRun(other, 'foreign');
      const error = await refusal(checkConfiguredRun(configFor(server.url, foreign, byName('app')), http));
      assert.match(error.message, new RegExp(`is in experiment 'elsewhere' \\(id ${other}\\), but the traces go to experiment 'app'`));
      assert.match(error.hint ?? '', new RegExp(`--experiment-id ${other}`));
    });

    it('refuses a run id where traces go to no MLflow experiment', async () => {
      const config = { ...configFor(server.url, runId, byName('app')), destination: { kind: 'none' } as const };
      const error = await refusal(checkConfiguredRun(config, undefined));
      assert.match(error.message, /the local store keeps none/);
    });

    it('does nothing without a run id', async () => {
      const { runId: _unused, ...config } = configFor(server.url, runId, byName('app'));
      assert.equal(await checkConfiguredRun(config, http), undefined);
    });
  });
});
