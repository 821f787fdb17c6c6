import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './run-cli.ts';

describe('tracing turned off, or a trace sampled out', () => {
  for (const [what, env, line] of [
    ['OTEL_SDK_DISABLED=true', { OTEL_SDK_DISABLED: 'true' }, /^tracing is off \(OTEL_SDK_DISABLED\): no trace was recorded$/m],
    [
      'OTEL_TRACES_SAMPLER=always_off',
      { OTEL_TRACES_SAMPLER: 'always_off' },
      /^the trace was not sampled \(OTEL_TRACES_SAMPLER=always_off\): nothing was recorded$/m,
    ],
  ] as const) {
    it(`${what}: ask answers, prints no trace id, keeps nothing, says so in one line, and exits 0`, async () => {
      const storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-tracing-off-'));
      try {
        const human = await runCli(['ask', 'What is MLflow tracing?'], { env: { ...env, OTEL_MLFLOW_STORE_DIR: storeDir } });
        assert.equal(human.code, 0, human.stdout + human.stderr);
        assert.match(human.stdout, /MLflow Tracing/);
        assert.match(human.stderr, line);
        assert.doesNotMatch(human.stdout + human.stderr, /tr-[0-9a-f]{32}|local store; see it/);
        const json = await runCli(['ask', '--json', 'What is MLflow tracing?'], { env: { ...env, OTEL_MLFLOW_STORE_DIR: storeDir } });
        assert.equal(json.code, 0, json.stderr);
        const parsed = JSON.parse(json.stdout) as { ok: boolean; traceId: string | null; export: unknown };
        assert.deepEqual([parsed.ok, parsed.traceId, parsed.export], [true, null, null]);
        const listed = await runCli(['traces', 'list', '--json'], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
        assert.deepEqual(JSON.parse(listed.stdout), [], 'nothing was kept');
      } finally {
        await rm(storeDir, { recursive: true, force: true });
      }
    });
  }

  it('a suite with tracing off keeps no scores (they live on traces), and says so instead of counting them', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-suite-off-'));
    try {
      const suite = await runCli(['suite', '--spawn'], { env: { OTEL_SDK_DISABLED: 'true', OTEL_MLFLOW_STORE_DIR: storeDir } });
      assert.equal(suite.code, 0, suite.stdout + suite.stderr);
      assert.match(suite.stdout, /no scores kept: no trace was recorded/);
      assert.doesNotMatch(suite.stdout, /\d+ scores? kept with the traces/);
      const listed = await runCli(['traces', 'list', '--json'], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
      assert.deepEqual(JSON.parse(listed.stdout), []);
    } finally {
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});
