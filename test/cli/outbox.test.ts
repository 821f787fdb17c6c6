import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeMlflow } from '../fakes/fake-mlflow.ts';
import { runCli } from './run-cli.ts';

describe('the store is the outbox for one-shot commands too', () => {
  let storeDir: string;
  let closedUrl: string;
  before(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-outbox-'));
    // A port something listened on a moment ago: connections to it are refused.
    const gone = await startFakeMlflow();
    closedUrl = gone.url;
    await gone.close();
  });
  after(() => rm(storeDir, { recursive: true, force: true }));

  it('ask answers although MLflow cannot be reached, and keeps the trace pending on disk, saying so (exit 7)', async () => {
    const result = await runCli(['ask', '--provider', 'offline', 'What is MLflow tracing?'], {
      env: { OTEL_MLFLOW_STORE_DIR: storeDir, MLFLOW_TRACKING_URI: closedUrl },
    });
    assert.equal(result.code, 7, result.stdout + result.stderr);
    assert.match(result.stdout, /MLflow Tracing/, 'the answer');
    assert.match(result.stderr, /connection refused/);
    assert.match(
      result.stderr,
      new RegExp(
        `it waits in ${storeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} and is sent by the next run or \`otel-mlflow traces push\``,
      ),
    );
    const listed = await runCli(['traces', 'list', '--status', 'pending', '--json'], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
    const pending = JSON.parse(listed.stdout) as { rootName: string; delivery: { destination: unknown; origin: string } }[];
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.rootName, 'ask chat');
    assert.deepEqual(
      [pending[0]!.delivery.origin, pending[0]!.delivery.destination],
      ['ask', { kind: 'mlflow', server: closedUrl, experiment: { name: 'otel-mlflow' } }],
    );
  });

  it('doctor, run against another server, reports that backlog beside its own result', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    try {
      const result = await runCli(['doctor', '--create-experiment', '--json'], {
        env: { OTEL_MLFLOW_STORE_DIR: storeDir, MLFLOW_TRACKING_URI: server.url },
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const report = JSON.parse(result.stdout) as { checks: { id: string; detail: string }[]; backlog: unknown };
      const send = report.checks.find((c) => c.id === 'send')!;
      assert.match(
        send.detail,
        /3 traces exported via OTLP; the store also holds 1 trace pending \(`otel-mlflow traces list --status pending`\)/,
      );
      assert.deepEqual(report.backlog, { pending: 1, dead: 0, spooled: 0, spooledWithOtherSettings: 0 });
    } finally {
      await server.close();
    }
  });
});
