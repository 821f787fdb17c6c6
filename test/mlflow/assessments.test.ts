import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { feedbackOf, logFeedback } from '../../src/mlflow/assessments.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { MlflowApiError } from '../../src/mlflow/errors.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { hostname } from 'node:os';
import { evaluationOutcome } from '../../src/commands/suite/eval/suite-mlflow-run.ts';
import { targetKey, type ExperimentTarget } from '../../src/destination/target.ts';
import { Outbox } from '../../src/pipeline/outbox.ts';
import { EvaluationStore } from '../../src/pipeline/store/evaluation-store.ts';
import { TraceStore } from '../../src/pipeline/store/trace-store.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';

const KNOWN = `tr-${'a'.repeat(32)}`;
const UNKNOWN = `tr-${'b'.repeat(32)}`;
const CODE = { type: 'CODE', id: 'otel-mlflow/answered' } as const;

async function traceInfoAssessments(http: MlflowHttp, traceId: string): Promise<unknown[] | undefined> {
  const answer = await http.request<{ trace: { trace_info: { assessments?: unknown[] } } }>({
    method: 'GET',
    path: `/api/3.0/mlflow/traces/${traceId}`,
  });
  return answer.trace.trace_info.assessments;
}

describe('feedback assessments on traces', () => {
  let server: FakeMlflow;
  let http: MlflowHttp;
  let experimentId: string;
  before(async () => {
    server = await startFakeMlflow({ version: '3.6.0' });
    http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
    experimentId = server.createExperiment('app');
    server.store.putRestTrace({
      trace_id: KNOWN,
      trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
      request_time: new Date().toISOString(),
      state: 'OK',
    });
  });
  after(() => server.close());

  it('logs feedback with its source, rationale and metadata, and reads it back in trace_info.assessments', async () => {
    const logged = await logFeedback(
      http,
      KNOWN,
      { name: 'mentions', value: 0.5, source: CODE, rationale: 'missing "OTLP"', metadata: { k: 'v' } },
      new Date(),
    );
    assert.match(logged.assessmentId, /^a-/);
    const [read] = feedbackOf(await traceInfoAssessments(http, KNOWN), KNOWN);
    assert.deepEqual(
      { name: read?.name, value: read?.value, source: read?.source, rationale: read?.rationale, metadata: read?.metadata },
      { name: 'mentions', value: 0.5, source: CODE, rationale: 'missing "OTLP"', metadata: { k: 'v' } },
    );
  });

  it('an unknown trace is 404 RESOURCE_DOES_NOT_EXIST; a name with "." is 400 INVALID_PARAMETER_VALUE', async () => {
    await assert.rejects(
      logFeedback(http, UNKNOWN, { name: 'answered', value: true, source: CODE }, new Date()),
      (error) => error instanceof MlflowApiError && error.status === 404 && error.errorCode === 'RESOURCE_DOES_NOT_EXIST',
    );
    await assert.rejects(
      logFeedback(http, KNOWN, { name: 'a.b', value: true, source: CODE }, new Date()),
      (error) => error instanceof MlflowApiError && error.status === 400 && error.errorCode === 'INVALID_PARAMETER_VALUE',
    );
  });

  /** Delivers what waits for the experiment through the outbox every command uses, as `suite` and `traces push` do. */
  async function deliverWaiting(dir: string, place: ExperimentTarget): Promise<void> {
    const outbox = new Outbox({ traces: TraceStore.open(dir), evaluations: EvaluationStore.open(dir), auth: { kind: 'none' } });
    outbox.addEvaluationDestination({ kind: 'mlflow', target: place, experiment: { id: experimentId } });
    await outbox.flush(10_000);
    await outbox.close(0);
  }

  it('delivering: a score whose trace MLflow lacks stays pending, one MLflow refuses stays on disk as refused, the rest is logged once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-eval-store-'));
    const store = EvaluationStore.open(dir);
    try {
      const place: ExperimentTarget = {
        kind: 'mlflow',
        server: server.url,
        experiment: { kind: 'id', id: { value: experimentId, source: { kind: 'default' } } },
      };
      const score = (name: string) => ({ name, value: true, passed: true, rationale: 'ok', source: CODE });
      const record = store.addSuiteRun(
        {
          destination: targetKey(place),
          runId: null,
          ownRun: true,
          name: 'suite-x',
          startedAt: 1000,
          endedAt: 2000,
          params: { endpoint: 'chat' },
          metrics: { pass_rate: 1 },
          tags: { 'otel-mlflow.suite': 'true' },
          traceIds: [KNOWN, UNKNOWN],
          results: '',
          endStatus: 'FINISHED',
        },
        [
          { traceId: KNOWN, score: score('answered') },
          { traceId: UNKNOWN, score: score('answered') },
          { traceId: KNOWN, score: score('bad.name') },
        ],
      );
      await deliverWaiting(dir, place);
      const first = evaluationOutcome(store, record.id);
      assert.equal(first.state, 'delivered');
      assert.deepEqual(first.scores, { delivered: 1, pending: 1, refused: 1 });
      assert.ok(first.scoreProblems.some((p) => /not in MLflow yet/.test(p)));
      assert.deepEqual(
        store.scoresOf(UNKNOWN).map((s) => s.state),
        ['pending'],
      );
      assert.deepEqual(
        store.scoresOf(KNOWN).map((s) => s.state),
        ['delivered', 'refused'],
      );

      const requests = server.requests.length;
      await deliverWaiting(dir, place);
      assert.equal(server.requests.filter((r) => r.path === '/api/2.0/mlflow/runs/create').length, 1, 'the run is not created twice');
      assert.ok(server.requests.length - requests <= 1, 'only the waiting score may be tried again');
      assert.deepEqual(evaluationOutcome(store, record.id).scores, { delivered: 1, pending: 1, refused: 1 });
      const runs = [...server.store.runs.values()].filter((run) => run.name === 'suite-x');
      assert.equal(runs.length, 1);
      assert.equal(runs[0]?.status, 'FINISHED');
      assert.deepEqual(server.store.tracesOfRun(runs[0]!.runId).sort(), [KNOWN, UNKNOWN]);
    } finally {
      store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a suite run another live process holds is left to it: never created twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-eval-claim-'));
    const mine = EvaluationStore.open(dir);
    const theirs = EvaluationStore.open(dir);
    try {
      const place: ExperimentTarget = {
        kind: 'mlflow',
        server: server.url,
        experiment: { kind: 'id', id: { value: experimentId, source: { kind: 'default' } } },
      };
      const record = mine.addSuiteRun(
        {
          destination: targetKey(place),
          runId: null,
          ownRun: true,
          name: 'claimed',
          startedAt: 1000,
          endedAt: 2000,
          params: {},
          metrics: {},
          tags: {},
          traceIds: [],
          results: '',
          endStatus: 'FINISHED',
        },
        [],
      );
      // Another deliverer of a process that runs (this one): its lease is never broken.
      assert.equal(
        theirs.suiteRuns.claim(targetKey(place), `${hostname()}:${process.pid}:other`, { maxItems: 1, maxBytes: Infinity, leaseMs: 60_000 })
          .length,
        1,
      );
      await deliverWaiting(dir, place);
      assert.equal(mine.suiteRun(record.id)?.state, 'pending');
      assert.equal([...server.store.runs.values()].filter((run) => run.name === 'claimed').length, 0);
    } finally {
      mine.close();
      theirs.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
