import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { createAgentService } from '../../../src/agent/agent-service.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { createLlmClient } from '../../../src/agent/llm/providers.ts';
import { TraceStore } from '../../../src/pipeline/store/trace-store.ts';
import { startTracing } from '../../../src/runtime/start-tracing.ts';
import { createApp } from '../../../src/agent/server/app.ts';
import { summarizeDelivery } from '../../../src/cli/delivery-summary.ts';
import { chatTrace } from '../../tracing/span-fixtures.ts';
import { until } from '../../fakes/until.ts';

const HEALTH = {
  status: 'ok' as const,
  version: 'test',
  tracing: { destination: 'the local store' },
  llm: { provider: 'offline', model: 'offline' },
  uptime_seconds: 0,
};
/** Requests in flight at once, as a load generator with 8 connections sends them. */
const CONNECTIONS = 8;
/** Far more than the room left on the "disk" needs: the loop ends at the first 503. */
const MAX_WAVES = 400;

describe('serve on a disk that fills up', () => {
  it('turns requests away (503 + Retry-After) while traces cannot be written, keeps every answered trace, and takes requests again once space returns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-full-disk-'));
    try {
      // The store's file, with an 8 MiB ballast the test frees later, on a "disk" with room for a few dozen traces more.
      TraceStore.open(dir).close();
      const file = join(dir, 'traces.db');
      const ballast = new DatabaseSync(file);
      ballast.exec('CREATE TABLE ballast (b BLOB); INSERT INTO ballast VALUES (zeroblob(8388608));');
      const pages = Number(ballast.prepare('PRAGMA page_count').get()!.page_count);
      ballast.close();

      const tracing = await startTracing({
        target: undefined,
        storeDir: dir,
        store: { pageLimit: pages + 40 },
        origin: 'serve',
        serviceName: 'full-disk',
      });
      const pipeline = tracing.pipeline!;
      const config = await loadConfig({ cwd: dir, homeDir: dir, env: {}, flags: {}, purpose: 'app' });
      const llm = createLlmClient(config, { tracer: tracing.tracer, contentAttributes: 'mlflow' });
      const app = createApp({
        agent: createAgentService({ llm, tracer: tracing.tracer }),
        tracer: tracing.tracer,
        info: () => HEALTH,
        refusing: () => pipeline.notAcceptingBecause,
      });
      const chat = () =>
        app.request('/chat', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'What is MLflow tracing?' }),
        });

      const answered: string[] = [];
      let refusal: Response | undefined;
      for (let wave = 0; wave < MAX_WAVES && !refusal; wave++) {
        for (const response of await Promise.all(Array.from({ length: CONNECTIONS }, chat))) {
          if (response.status === 200) answered.push(((await response.json()) as { trace_id: string }).trace_id);
          else if (response.status === 503) refusal ??= response;
          else assert.fail(`unexpected ${response.status}: ${await response.text()}`);
        }
        // A load the disk keeps up with until it is full (a busy machine must not make this a test of backlog).
        await until(
          () => pipeline.store.reads.counts().local >= answered.length || pipeline.stats.storeTrouble !== undefined,
          'the store has written the wave',
          { everyMs: 5 },
        );
      }
      assert.ok(refusal, `the disk never filled after ${answered.length} traces`);
      assert.equal(refusal.headers.get('retry-after'), '5');
      const body = (await refusal.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'unavailable');
      assert.match(body.error.message, /cannot be written: database or disk is full/);
      assert.match(pipeline.stats.storeTrouble?.reason ?? '', /database or disk is full/);
      const health = await app.request('/');
      assert.equal(health.status, 200, 'the health check is never turned away');

      // Space returns: nothing needs restarting.
      const freeing = new DatabaseSync(file);
      freeing.exec('DROP TABLE ballast');
      freeing.close();
      await until(() => pipeline.accepting, 'the store writes again', { everyMs: 100 });
      const again = await chat();
      assert.equal(again.status, 200);
      answered.push(((await again.json()) as { trace_id: string }).trace_id);

      const report = (await tracing.shutdown(10_000))!;
      assert.equal(report.refused, 0, report.refusedReason ?? '');
      const store = TraceStore.open(dir);
      try {
        const missing = answered.filter((id) => !store.reads.get(id));
        assert.deepEqual(missing, [], 'every request answered 200 has its trace in the store');
      } finally {
        store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a disk still full when the process stops: every trace it could not write is counted, with the cause, in its last report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-full-at-exit-'));
    try {
      TraceStore.open(dir).close();
      const probe = new DatabaseSync(join(dir, 'traces.db'));
      const pages = Number(probe.prepare('PRAGMA page_count').get()!.page_count);
      // Room for a few traces (40 KiB), whatever the store's page size.
      const room = Math.ceil(40_960 / Number(probe.prepare('PRAGMA page_size').get()!.page_size));
      probe.close();
      const tracing = await startTracing({
        target: undefined,
        storeDir: dir,
        store: { pageLimit: pages + room },
        origin: 'serve',
        serviceName: 'full-at-exit',
      });
      const produced = 60;
      for (let i = 0; i < produced; i++) chatTrace(tracing.tracer);
      await until(() => tracing.pipeline!.stats.storeTrouble !== undefined, 'the store fills');
      const report = (await tracing.shutdown(1_000))!;
      assert.ok(report.refused > 0, 'some could not be written');
      assert.equal(report.stored + report.refused, produced, 'each trace is stored or counted');
      assert.match(report.refusedReason ?? '', /cannot be written: database or disk is full/);
      assert.match(
        summarizeDelivery(report).line,
        new RegExp(`${report.refused} not stored: the store .* cannot be written: database or disk is full`),
      );
      assert.equal(summarizeDelivery(report).lost, true, 'the command exits non-zero');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
