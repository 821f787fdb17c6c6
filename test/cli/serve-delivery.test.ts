import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFaultyProxy } from '../fakes/faulty-proxy.ts';
import { until } from '../fakes/until.ts';
import { chat, startServe } from './serve-process.ts';

const EXPERIMENT = 'serve-delivery';

describe('serve delivers through the store', () => {
  it('while MLflow is down traces wait on disk (GET / says why), and all reach MLflow when it is back, without a push', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    const proxy = await startFaultyProxy(server.url);
    const storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-serve-delivery-'));
    try {
      const serve = await startServe([], {
        MLFLOW_TRACKING_URI: proxy.url,
        MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
        OTEL_MLFLOW_STORE_DIR: storeDir,
      });
      try {
        const experimentId = server.store.experimentByName(EXPERIMENT)!.experimentId;
        const before = await chat(serve, 3);
        await proxy.down();
        const during = await chat(serve, 5);
        await until(() => /not delivered yet/.test(serve.output()), 'serve warns');
        const health = (await (await fetch(`${serve.url}/`)).json()) as {
          tracing: { delivery: { pending: number; last_error: { answer: string } | null } };
        };
        assert.ok(health.tracing.delivery.pending >= 1, JSON.stringify(health));
        assert.match(health.tracing.delivery.last_error?.answer ?? '', /127\.0\.0\.1:\d+ .*for POST \/v1\/traces/);
        await proxy.up();
        const after = await chat(serve, 2);
        const wanted = [...before, ...during, ...after];
        await until(() => wanted.every((id) => server.store.getTrace(id)), 'every trace is in MLflow');
        assert.equal(server.store.traces(experimentId).length, wanted.length, 'each exactly once');
      } finally {
        const stopped = await serve.stop();
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        assert.match(stopped.stdout, /^traces: 10 delivered$/m);
      }
    } finally {
      await proxy.close();
      await server.close();
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  it('killed with SIGKILL, a restarted serve delivers every trace of a request answered before the kill', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    const proxy = await startFaultyProxy(server.url);
    const storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-serve-kill-'));
    const env = { MLFLOW_TRACKING_URI: proxy.url, MLFLOW_EXPERIMENT_NAME: EXPERIMENT, OTEL_MLFLOW_STORE_DIR: storeDir };
    try {
      const first = await startServe([], env);
      await proxy.down();
      const answered = await chat(first, 20);
      // The store commits a group every 25 ms; a request answered a second ago is long on disk.
      await delay(1_000);
      await first.stop('SIGKILL');
      await proxy.up();
      const second = await startServe([], env);
      try {
        await until(() => answered.every((id) => server.store.getTrace(id)), 'the restarted serve delivered them');
      } finally {
        await second.stop();
      }
    } finally {
      await proxy.close();
      await server.close();
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});
