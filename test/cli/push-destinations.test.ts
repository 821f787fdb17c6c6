import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILTIN_QUESTIONS } from '../../src/commands/suite/builtin-questions.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { startMlflowBehindProxy } from '../fakes/faulty-proxy.ts';
import { readableSpan } from '../fakes/readable-spans.ts';
import { saveSpans, withStore } from '../fakes/with-store.ts';
import { runApp, type AppRun } from '../relay/stock-app.ts';
import { runCli } from './run-cli.ts';
import { startRelayProcess } from './serve-process.ts';
import { CHAT_SCORERS, feedbackOnTrace, latest, suiteRuns } from './suite-runs.ts';

/** Where traces go when nothing names an experiment. */
const DEFAULT_EXPERIMENT = 'otel-mlflow';

let root: string;
let dirs = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-push-destinations-'));
});
after(() => rm(root, { recursive: true, force: true }));
const newStoreDir = () => join(root, `store-${++dirs}`);

function experimentNames(server: FakeMlflow): string[] {
  return [...server.store.experiments.values()].map((experiment) => experiment.name).sort();
}

function traceIdsIn(server: FakeMlflow, experiment: string): string[] {
  const id = server.store.experimentByName(experiment)?.experimentId;
  return id === undefined
    ? []
    : server.store
        .traces(id)
        .map((trace) => trace.info.trace_id)
        .sort();
}

interface Waiting {
  server: FakeMlflow;
  /** The tracking URI the commands were given: a proxy in front of the fake. */
  trackingUri: string;
  storeDir: string;
}

/**
 * Runs `use` once `make` left its work waiting on disk while MLflow was down (the proxy in front of it
 * stopped), and MLflow is back; stops both afterwards.
 */
async function whenBackAfter<T>(make: (down: Waiting) => Promise<T>, use: (back: Waiting, made: T) => Promise<void>): Promise<void> {
  const { server, proxy, close } = await startMlflowBehindProxy('3.14.1.dev0');
  const waiting = { server, trackingUri: proxy.url, storeDir: newStoreDir() };
  try {
    await proxy.down();
    const made = await make(waiting);
    await proxy.up();
    await use(waiting, made);
  } finally {
    await close();
  }
}

/** A relay for `my-app` takes a stock app's traces while MLflow is down and is stopped with them pending on disk; their `tr-` ids. */
async function relayKeepsTraces(traces: number, { trackingUri, storeDir }: Waiting): Promise<string[]> {
  const relay = await startRelayProcess([], {
    MLFLOW_TRACKING_URI: trackingUri,
    MLFLOW_EXPERIMENT_NAME: 'my-app',
    OTEL_MLFLOW_STORE_DIR: storeDir,
  });
  let app: AppRun;
  try {
    app = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.url, APP_TRACES: String(traces) });
  } finally {
    const stopped = await relay.stop();
    assert.equal(stopped.code, 7, `pending traces are the relay's exit 7:\n${stopped.stdout}${stopped.stderr}`);
    assert.match(stopped.stdout, new RegExp(`^traces: 0 delivered, ${traces} pending in `, 'm'));
  }
  assert.equal(app.exports.failed, 0, app.exports.errors.join('\n'));
  return app.traceIds.map((hex) => `tr-${hex}`).sort();
}

/** `traces push` with only the tracking URI (and the store) set, as after the relay or suite stopped. */
function pushWithTrackingUriOnly({ trackingUri, storeDir }: Waiting, args: string[] = []) {
  return runCli(['traces', 'push', ...args], { env: { MLFLOW_TRACKING_URI: trackingUri, OTEL_MLFLOW_STORE_DIR: storeDir } });
}

describe('traces push sends waiting traces where they were made for', () => {
  it('relay traces kept for experiment my-app while MLflow was down land in my-app with only MLFLOW_TRACKING_URI set, and push says so', () =>
    whenBackAfter(
      (down) => relayKeepsTraces(5, down),
      async (back, kept) => {
        const pushed = await pushWithTrackingUriOnly(back);
        assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
        assert.match(pushed.stdout, /^Pushing 5 traces to MLflow at http:\/\/127\.0\.0\.1:\d+, experiment 'my-app' \(id \d+\)/m);
        assert.match(pushed.stdout, /^5 sent, 0 still pending, 0 refused\./m);
        assert.deepEqual(traceIdsIn(back.server, 'my-app'), kept);
        assert.equal(back.server.store.experimentByName(DEFAULT_EXPERIMENT), undefined, 'nothing went to the default experiment');
      },
    ));

  it('--experiment other sends relay traces kept for my-app to other instead', () =>
    whenBackAfter(
      (down) => relayKeepsTraces(3, down),
      async (back, kept) => {
        const pushed = await pushWithTrackingUriOnly(back, ['--experiment', 'other']);
        assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
        assert.match(pushed.stdout, /^Pushing 3 traces to MLflow at http:\/\/127\.0\.0\.1:\d+, experiment 'other' \(id \d+\)/m);
        assert.deepEqual(traceIdsIn(back.server, 'other'), kept);
        assert.deepEqual(experimentNames(back.server), ['Default', 'other'], 'my-app was never created');
      },
    ));

  it('a suite run left unfinished while MLflow was down ends FINISHED in its own experiment, with its metrics and every score, when pushed with only MLFLOW_TRACKING_URI', () =>
    whenBackAfter(
      async ({ trackingUri, storeDir }) => {
        const suite = await runCli(['suite', '--spawn', '--json'], {
          env: { MLFLOW_TRACKING_URI: trackingUri, MLFLOW_EXPERIMENT_NAME_OTEL: 'suite-exp', OTEL_MLFLOW_STORE_DIR: storeDir },
        });
        assert.equal(suite.code, 7, suite.stdout + suite.stderr);
        const summary = JSON.parse(suite.stdout);
        assert.equal(summary.mlflowRun.state, 'pending');
        assert.equal(summary.mlflowRun.scores.pending, BUILTIN_QUESTIONS.length * CHAT_SCORERS);
        return summary as { tokens: number; latencyMs: { p95: number }; results: { traceId: string }[] };
      },
      async (back, summary) => {
        const { server } = back;
        const pushed = await pushWithTrackingUriOnly(back);
        assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
        const experimentId = server.store.experimentByName('suite-exp')?.experimentId;
        assert.ok(experimentId, `suite-exp exists:\n${pushed.stdout}`);
        assert.equal(server.store.experimentByName(DEFAULT_EXPERIMENT), undefined, 'nothing went to the default experiment');
        const [run, ...others] = suiteRuns(server);
        assert.ok(run, 'the suite run was created');
        assert.equal(others.length, 0);
        assert.equal(run.experimentId, experimentId);
        assert.equal(run.status, 'FINISHED');
        assert.equal(latest(run).pass_rate, 1);
        assert.equal(latest(run).tokens_total, summary.tokens);
        assert.equal(latest(run).latency_p95_ms, summary.latencyMs.p95);

        const traceIds = summary.results.map((result) => result.traceId).sort();
        assert.deepEqual(traceIdsIn(server, 'suite-exp'), traceIds);
        assert.deepEqual(server.store.tracesOfRun(run.runId).sort(), traceIds);
        for (const traceId of traceIds) {
          const feedback = await feedbackOnTrace(server, traceId);
          assert.deepEqual(feedback.map((one) => one.name).sort(), ['answered', 'latency', 'mentions', 'tokens'], traceId);
          assert.ok(feedback.every((one) => one.metadata?.['mlflow.assessment.sourceRunId'] === run.runId));
        }
        assert.match(pushed.stdout, new RegExp(`suite run in MLflow: ${run.runId}`));
        assert.match(pushed.stdout, new RegExp(`${BUILTIN_QUESTIONS.length * CHAT_SCORERS} scores logged as assessments`));
      },
    ));
});

describe('a bad run id is refused before anything is created', () => {
  const MISSING_RUN = 'f'.repeat(32);

  /** A store with one trace kept locally, for a push to carry. */
  function storeWithOneTrace(): string {
    const dir = newStoreDir();
    const hex = randomBytes(16).toString('hex');
    withStore(dir, (store) =>
      saveSpans(store, [readableSpan({ traceId: hex, spanId: randomBytes(8).toString('hex'), name: 'kept', statusCode: 1 })]),
    );
    return dir;
  }

  /** A run of experiment 'elsewhere', where the command's traces do not go. */
  function runOfAnotherExperiment(server: FakeMlflow): string {
    return server.createRun(server.createExperiment('elsewhere'), 'their-run');
  }

  /** What the command says, naming the run. */
  function refusalOf(runId: string, which: 'missing' | 'of another experiment'): RegExp {
    return new RegExp(
      `MLflow run ${runId} \\(from flag --run-id\\) ${which === 'missing' ? 'does not exist' : "is in experiment 'elsewhere'"}`,
    );
  }

  for (const which of ['missing', 'of another experiment'] as const) {
    it(`traces push --run-id (a run ${which}): exit 3 naming the run, no experiment created, nothing sent`, async () => {
      const server = await startFakeMlflow({ version: '3.14.1.dev0' });
      try {
        const runId = which === 'missing' ? MISSING_RUN : runOfAnotherExperiment(server);
        const experiments = experimentNames(server);
        const storeDir = storeWithOneTrace();
        const pushed = await runCli(['traces', 'push', '--run-id', runId], {
          env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_EXPERIMENT_NAME: 'pushed', OTEL_MLFLOW_STORE_DIR: storeDir },
        });
        assert.equal(pushed.code, 3, pushed.stdout + pushed.stderr);
        assert.match(pushed.stderr, refusalOf(runId, which));
        assert.deepEqual(experimentNames(server), experiments);
        assert.equal(server.store.traces().length, 0);
        assert.equal(
          withStore(storeDir, (store) => store.reads.counts().local),
          1,
          'the trace still waits to be pushed',
        );
      } finally {
        await server.close();
      }
    });

    it(`relay --run-id (a run ${which}): exit 3 naming the run, no experiment created`, async () => {
      const server = await startFakeMlflow({ version: '3.14.1.dev0' });
      try {
        const runId = which === 'missing' ? MISSING_RUN : runOfAnotherExperiment(server);
        const experiments = experimentNames(server);
        const relay = await runCli(['relay', '--port', '0', '--grpc-port', 'off', '--run-id', runId], {
          env: { MLFLOW_TRACKING_URI: server.url, MLFLOW_EXPERIMENT_NAME: 'relayed', OTEL_MLFLOW_STORE_DIR: newStoreDir() },
        });
        assert.equal(relay.code, 3, relay.stdout + relay.stderr);
        assert.match(relay.stderr, refusalOf(runId, which));
        assert.deepEqual(experimentNames(server), experiments);
      } finally {
        await server.close();
      }
    });
  }
});
