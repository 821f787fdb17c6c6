import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EvaluationStore } from '../../src/pipeline/store/evaluation-store.ts';
import { runCli } from './run-cli.ts';
import { startServe } from './serve-process.ts';

describe('a store given with --store-dir', () => {
  it('suite against a serve started with --store-dir keeps the scores with the traces in that store, and its hints name it', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-store-dir-'));
    const serve = await startServe(['--store-dir', storeDir]);
    try {
      const suite = await runCli(['suite', '--url', serve.url, '--repeat', '1']);
      assert.equal(suite.code, 0, suite.stdout + suite.stderr);
      assert.match(suite.stdout, new RegExp(`otel-mlflow traces show <id> --store-dir ${storeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const store = EvaluationStore.open(storeDir);
      try {
        assert.ok(store.localCount() > 1, 'the suite run and its scores are in the server’s store, beside their traces');
      } finally {
        store.close();
      }
    } finally {
      await serve.stop();
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});
