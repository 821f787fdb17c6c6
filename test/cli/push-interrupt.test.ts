import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { targetKey, type ExperimentTarget } from '../../src/destination/target.ts';
import { EvaluationStore } from '../../src/pipeline/store/evaluation-store.ts';
import { startFakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFaultyProxy } from '../fakes/faulty-proxy.ts';
import { until } from '../fakes/until.ts';
import { runCli } from './run-cli.ts';

const TRACES = Array.from({ length: 4 }, (_, i) => `tr-${String(i + 1).repeat(32)}`);
const SCORES_PER_TRACE = 10;

describe('Ctrl-C during traces push', () => {
  it('stops at once with exit 130 and says how to resume; the next push sends every score once', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    const proxy = await startFaultyProxy(server.url);
    const storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-push-interrupt-'));
    try {
      const experimentId = server.createExperiment('otel-mlflow');
      for (const traceId of TRACES) {
        server.store.putRestTrace({
          trace_id: traceId,
          trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
          request_time: new Date().toISOString(),
          state: 'OK',
        });
      }
      const place: ExperimentTarget = {
        kind: 'mlflow',
        server: proxy.url,
        experiment: { kind: 'name', name: { value: 'otel-mlflow', source: { kind: 'default' } } },
      };
      const store = EvaluationStore.open(storeDir);
      store.addSuiteRun(
        {
          destination: targetKey(place),
          runId: null,
          ownRun: true,
          name: 'suite-interrupted',
          startedAt: 1000,
          endedAt: 2000,
          params: {},
          metrics: { pass_rate: 1 },
          tags: {},
          traceIds: TRACES,
          results: '',
          endStatus: 'FINISHED',
        },
        TRACES.flatMap((traceId) =>
          Array.from({ length: SCORES_PER_TRACE }, (_, i) => ({
            traceId,
            score: { name: `check_${i}`, value: true, passed: true, rationale: 'ok', source: { type: 'CODE' as const, id: 'test' } },
          })),
        ),
      );
      store.close();
      const env = { OTEL_MLFLOW_STORE_DIR: storeDir, MLFLOW_TRACKING_URI: proxy.url };

      // The third score's request never gets an answer: the push is busy when Ctrl-C comes.
      let assessments = 0;
      proxy.mode = { kind: 'pass' };
      const interrupted = await runCli(['traces', 'push'], {
        env,
        onStart: (child) => {
          const scoresSent = () => {
            assessments = proxy.requests.filter((r) => r.path.endsWith('/assessments')).length;
            return assessments >= 2;
          };
          void until(scoresSent, 'scores are being sent').then(() => {
            proxy.mode = { kind: 'hang' };
            return until(() => proxy.requests.filter((r) => r.status === 'hung').length > 0, 'a request hangs').then(() =>
              child.kill('SIGINT'),
            );
          });
        },
      });
      assert.equal(interrupted.code, 130, interrupted.stdout + interrupted.stderr);
      assert.match(interrupted.stdout, /Sending 1 suite run and 40 scores to MLflow/);
      assert.match(
        interrupted.stderr,
        new RegExp(
          `interrupted: what was not sent stays in ${storeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; \`otel-mlflow traces push\` again resumes`,
        ),
      );
      assert.ok(assessments < TRACES.length * SCORES_PER_TRACE, 'stopped before every score was sent');

      proxy.mode = { kind: 'pass' };
      const resumed = await runCli(['traces', 'push', '--json'], { env });
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      const logged = TRACES.flatMap((traceId) => server.store.getTrace(traceId)?.info.assessments ?? []);
      assert.equal(logged.length, TRACES.length * SCORES_PER_TRACE, 'every score logged, none twice');
      assert.equal([...server.store.runs.values()].filter((run) => run.name === 'suite-interrupted').length, 1, 'the run created once');
    } finally {
      await proxy.close();
      await server.close();
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});
