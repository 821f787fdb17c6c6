import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MLFLOW_VERSIONS, startFakeMlflow, type FakeMlflowOptions } from '../fakes/fake-mlflow.ts';
import { traceIdsOfRun, waitForTracesOfRun } from '../fakes/traces-of-run.ts';
import { BUILTIN_QUESTIONS } from '../../src/commands/suite/builtin-questions.ts';
import { runCli } from './run-cli.ts';
import { startServe } from './serve-process.ts';

const QUESTION = 'What is MLflow tracing?';
const TRACE_ID = /Trace (tr-[0-9a-f]{32})/;

async function withRun(
  options: FakeMlflowOptions,
  test: (server: Awaited<ReturnType<typeof startFakeMlflow>>, runId: string) => Promise<void>,
) {
  const server = await startFakeMlflow(options);
  try {
    // `ask` logs to the app experiment, `otel-mlflow` unless configured.
    const runId = server.createRun(server.createExperiment('otel-mlflow'), 'eval');
    await test(server, runId);
  } finally {
    await server.close();
  }
}

describe('traces linked to an MLflow run (MLFLOW_RUN_ID, --run-id)', () => {
  const cases = [
    ...MLFLOW_VERSIONS.map((version) => ({ version, backend: 'sql' as const })),
    { version: '3.8.1' as const, backend: 'file' as const },
  ];
  for (const { version, backend } of cases) {
    it(`MLflow ${version}${backend === 'file' ? ' (file store, REST)' : ''}: search_traces(run_id=…) finds the trace of \`ask\``, async () => {
      await withRun({ version, backend }, async (server, runId) => {
        const result = await runCli(['ask', QUESTION], { env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: runId } });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const traceId = TRACE_ID.exec(result.stdout + result.stderr)?.[1];
        assert.ok(traceId, result.stdout);
        assert.deepEqual(await traceIdsOfRun(server.url, runId), [traceId]);
        const byHeader = server.requests.some((r) => r.path === '/v1/traces' && r.headers['x-mlflow-run-id'] === runId);
        const byLink = server.requests.some((r) => r.path === '/api/2.0/mlflow/traces/link-to-run');
        // The header where the server takes it, link-to-run everywhere else.
        assert.deepEqual(
          { byHeader, byLink },
          version === '3.14.1.dev0' ? { byHeader: true, byLink: false } : { byHeader: false, byLink: true },
        );
      });
    });
  }

  it('--run-id wins over MLFLOW_RUN_ID', async () => {
    await withRun({ version: '3.11.1' }, async (server, runId) => {
      const other = server.createRun(server.store.experimentByName('otel-mlflow')!.experimentId, 'other');
      const result = await runCli(['ask', '--run-id', runId, QUESTION], { env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: other } });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal((await traceIdsOfRun(server.url, runId)).length, 1);
      assert.deepEqual(await traceIdsOfRun(server.url, other), []);
    });
  });

  for (const [problem, setUp, message] of [
    ['an unknown run', async () => 'f'.repeat(32), /MLflow run f{32} \(from env MLFLOW_RUN_ID\) does not exist/],
    [
      'a deleted run',
      async (server: Awaited<ReturnType<typeof startFakeMlflow>>, runId: string) => {
        server.deleteRun(runId);
        return runId;
      },
      /is deleted/,
    ],
    [
      'a run of another experiment',
      async (server: Awaited<ReturnType<typeof startFakeMlflow>>) => server.createRun(server.createExperiment('elsewhere')),
      /is in experiment 'elsewhere' \(id \d+\), but the traces go to experiment 'new-one'/,
    ],
  ] as const) {
    it(`${problem} stops \`ask\` with exit 3 before anything is sent or created`, async () => {
      await withRun({ version: '3.14.1.dev0' }, async (server, runId) => {
        const bad = await setUp(server, runId);
        const result = await runCli(['ask', QUESTION], {
          env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: bad, MLFLOW_EXPERIMENT_NAME: 'new-one' },
        });
        assert.equal(result.code, 3, result.stdout + result.stderr);
        assert.match(result.stderr, message);
        assert.ok(
          !server.requests.some((r) => r.path === '/v1/traces' || r.path.includes('/experiments/create')),
          'nothing sent, nothing created',
        );
      });
    });
  }
});

describe('otel-mlflow ask --url and a run', () => {
  it('links the trace the running server answered with (3.8.1: by link-to-run)', async () => {
    await withRun({ version: '3.8.1' }, async (server, runId) => {
      const serve = await startServe([], { MLFLOW_TRACKING_URI: server.url });
      try {
        const result = await runCli(['ask', '--url', serve.url, QUESTION], {
          env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: runId },
        });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.deepEqual(await waitForTracesOfRun(server.url, runId, 1), [TRACE_ID.exec(result.stdout + result.stderr)?.[1]]);
      } finally {
        await serve.stop();
      }
    });
  });
});

describe('otel-mlflow suite and a run', () => {
  it('--spawn links every trace of the run (3.8.1: by link-to-run)', async () => {
    await withRun({ version: '3.8.1' }, async (server, runId) => {
      const result = await runCli(['suite', '--spawn', '--run-id', runId, '--json'], { env: { MLFLOW_TRACKING_URI: server.url } });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const traceIds = (JSON.parse(result.stdout) as { results: { traceId: string }[] }).results.map((r) => r.traceId).sort();
      assert.equal(traceIds.length, BUILTIN_QUESTIONS.length);
      assert.deepEqual(await traceIdsOfRun(server.url, runId), traceIds);
    });
  });

  it('against a running serve, links the traces it was answered with and says so', async () => {
    await withRun({ version: '3.14.1.dev0' }, async (server, runId) => {
      const serve = await startServe([], { MLFLOW_TRACKING_URI: server.url });
      try {
        const result = await runCli(['suite', '--url', serve.url, '--concurrency', '4'], {
          env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: runId },
        });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, new RegExp(`linked ${BUILTIN_QUESTIONS.length} traces to MLflow run ${runId}`));
        assert.equal((await waitForTracesOfRun(server.url, runId, BUILTIN_QUESTIONS.length)).length, BUILTIN_QUESTIONS.length);
      } finally {
        await serve.stop();
      }
    });
  });

  it('against a running serve, a run of another experiment stops the suite before the first question (exit 3)', async () => {
    await withRun({ version: '3.14.1.dev0' }, async (server) => {
      const foreign = server.createRun(server.createExperiment('elsewhere'));
      const serve = await startServe([], { MLFLOW_TRACKING_URI: server.url });
      try {
        const result = await runCli(['suite', '--url', serve.url], { env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: foreign } });
        assert.equal(result.code, 3, result.stdout + result.stderr);
        assert.match(result.stderr, /is in experiment 'elsewhere' .* but the traces go to experiment id \d+ \(from the server at /);
        assert.equal(server.store.traces().length, 0, 'no question was asked');
      } finally {
        await serve.stop();
      }
    });
  });
});

describe('otel-mlflow doctor and a run', () => {
  for (const version of ['3.6.0', '3.14.1.dev0'] as const) {
    it(`MLflow ${version}: the test traces are linked, and read back by their run`, async () => {
      const server = await startFakeMlflow({ version });
      try {
        const runId = server.createRun(server.createExperiment('otel-mlflow-doctor'), 'doctor-run');
        const result = await runCli(['doctor', '--json', '--run-id', runId, '--timeout', '10'], {
          env: { MLFLOW_TRACKING_URI: server.url },
        });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as { checks: { id: string; detail: string }[]; traces: { traceId: string }[] };
        assert.match(
          report.checks.find((c) => c.id === 'experiment')!.detail,
          new RegExp(`test traces linked to run 'doctor-run' \\(${runId}\\)`),
        );
        assert.deepEqual(await traceIdsOfRun(server.url, runId), report.traces.map((t) => t.traceId).sort());
      } finally {
        await server.close();
      }
    });
  }

  it('a run of another experiment fails the experiment check (exit 3) and sends no test trace', async () => {
    const server = await startFakeMlflow({ version: '3.11.1' });
    try {
      const runId = server.createRun(server.createExperiment('app'));
      const result = await runCli(['doctor', '--json', '--create-experiment'], {
        env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_RUN_ID: runId },
      });
      assert.equal(result.code, 3, result.stdout + result.stderr);
      const report = JSON.parse(result.stdout) as { checks: { id: string; status: string; detail: string }[] };
      const experiment = report.checks.find((c) => c.id === 'experiment')!;
      assert.equal(experiment.status, 'fail');
      assert.match(experiment.detail, /is in experiment 'app' \(id \d+\), but the traces go to experiment 'otel-mlflow-doctor'/);
      assert.equal(server.store.experimentByName('otel-mlflow-doctor'), undefined, 'not created');
      assert.ok(!server.requests.some((r) => r.path === '/v1/traces'));
    } finally {
      await server.close();
    }
  });
});

describe('otel-mlflow config and the run id', () => {
  it('shows the run id and where it came from; .env works as for every MLflow variable', async () => {
    const runId = '0f6c3bd1e1a44a5c9b8a0d6a4f1e2c3d';
    const result = await runCli(['config', '--json'], {
      env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' },
      dotenv: `MLFLOW_RUN_ID=${runId}\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    const entry = (JSON.parse(result.stdout) as { entries: { key: string; value: string; source: string }[] }).entries.find(
      (e) => e.key === 'runId',
    );
    assert.equal(entry?.value, runId);
    assert.match(entry?.source ?? '', /^\.env .* MLFLOW_RUN_ID$/);
  });
});
