import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { StateCounts } from '../../src/pipeline/store/trace-reads.ts';
import type { FakeMlflow } from '../fakes/fake-mlflow.ts';
import { startMlflowBehindProxy, tracesAccepted, type FaultyProxy } from '../fakes/faulty-proxy.ts';
import { until } from '../fakes/until.ts';
import { withStore } from '../fakes/with-store.ts';
import { SAME_REQUEST_MS } from '../../src/cli/stop-requests.ts';
import { runApp } from '../relay/stock-app.ts';
import { runCli } from './run-cli.ts';
import { chat, startRelayProcess, startServe, type ServeProcess } from './serve-process.ts';

const EXPERIMENT = 'delivery-faults';
/** Bounds a failure only: a passing test waits as long as the code under test takes. */
const LANDING_DEADLINE_MS = 30_000;
/** How long each phase of a flapping MLflow lasts (503, then passing, then 503 …). */
const FLAP_MS = 400;

interface Health {
  tracing: {
    destination: string;
    route?: string;
    problem?: { since: string; reason: string };
    delivery?: { pending: number; dead: number; delivered: number; last_error: { status?: number; answer: string } | null };
  };
}

let root: string;
let dirs = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-delivery-faults-'));
});
after(() => rm(root, { recursive: true, force: true }));

interface Fake {
  server: FakeMlflow;
  proxy: FaultyProxy;
  /** The one store of the commands a test runs. */
  storeDir: string;
  /** For commands: MLflow through the proxy, the test's experiment and store. */
  env: Record<string, string>;
}

/** Runs `use` with a fake MLflow behind a faulty proxy, and stops both afterwards. */
async function withMlflowBehindProxy(use: (fake: Fake) => Promise<void>): Promise<void> {
  const { server, proxy, close } = await startMlflowBehindProxy();
  const storeDir = join(root, `store-${++dirs}`);
  try {
    await use({
      server,
      proxy,
      storeDir,
      env: { MLFLOW_TRACKING_URI: proxy.url, MLFLOW_EXPERIMENT_NAME: EXPERIMENT, OTEL_MLFLOW_STORE_DIR: storeDir },
    });
  } finally {
    await close();
  }
}

/**
 * Runs `use` with a serve of the fake's environment, then stops it (SIGTERM): it must stop promptly,
 * exit with `exit` and end with a line matching `closing`.
 */
async function withServe(
  fake: Fake,
  expected: { exit: number; closing: RegExp },
  use: (serve: ServeProcess) => Promise<void>,
): Promise<void> {
  const serve = await startServe([], fake.env);
  try {
    await use(serve);
  } finally {
    const stopping = Date.now();
    const stopped = await serve.stop();
    assert.ok(Date.now() - stopping < 10_000, `stopped after ${Date.now() - stopping} ms: a request MLflow never answers must not hold it`);
    assert.equal(stopped.code, expected.exit, stopped.stdout + stopped.stderr);
    assert.match(stopped.stdout, expected.closing);
  }
}

async function health(serve: ServeProcess): Promise<Health> {
  const response = await fetch(`${serve.url}/`);
  assert.equal(response.status, 200);
  return (await response.json()) as Health;
}

/** How often MLflow took each trace (`tr-…`) on /v1/traces, as the proxy saw it answered. */
function acceptedCounts(proxy: FaultyProxy): Map<string, number> {
  const counts = new Map<string, number>();
  for (const hex of tracesAccepted(proxy)) counts.set(`tr-${hex}`, (counts.get(`tr-${hex}`) ?? 0) + 1);
  return counts;
}

/**
 * Each of `traceIds` taken by MLflow exactly once, and nothing else. Waits first for the proxy to have
 * passed MLflow's answers on: MLflow stores a trace a moment before its answer is back through the proxy.
 */
async function assertTakenOnce(proxy: FaultyProxy, traceIds: readonly string[]): Promise<void> {
  await until(() => traceIds.every((id) => acceptedCounts(proxy).has(id)), 'the proxy has passed on every answer').catch(() => {});
  const counts = acceptedCounts(proxy);
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], `${twice.length} of ${traceIds.length} traces were sent to MLflow more than once`);
  assert.deepEqual([...counts.keys()].sort(), [...traceIds].sort());
}

/** Waits until the store holds traces in exactly these states (the one that sent them marks them just after MLflow's answer). */
async function untilStoreHolds(storeDir: string, expected: StateCounts): Promise<void> {
  const counts = () => withStore(storeDir, (store) => store.reads.counts());
  await until(() => isDeepStrictEqual(counts(), expected), `the store holds ${JSON.stringify(expected)}`).catch(() =>
    assert.deepEqual(counts(), expected),
  );
}

function inMlflow(server: FakeMlflow, traceIds: readonly string[]): boolean {
  return traceIds.every((id) => server.store.getTrace(id) !== undefined);
}

describe('delivery under faults: what reaches MLflow and what the user is told', () => {
  it('two serves, the relay and repeated `traces push` on one store while MLflow flaps: MLflow takes each trace exactly once', () =>
    withMlflowBehindProxy(async (fake) => {
      const ROUNDS = 4;
      const PUSHES = 3;
      const running: ServeProcess[] = [];
      try {
        // All three at once, as a deployment starts them: each finds or creates the experiment.
        const started = await Promise.allSettled([startServe([], fake.env), startServe([], fake.env), startRelayProcess([], fake.env)]);
        for (const start of started) if (start.status === 'fulfilled') running.push(start.value);
        for (const start of started) if (start.status === 'rejected') throw start.reason;
        const [firstServe, secondServe, relay] = running as [ServeProcess, ServeProcess, ServeProcess];

        let busy = true;
        const refused = () => fake.proxy.requests.filter((r) => r.status === 503).length;
        const flapping = (async () => {
          while (busy) {
            const before = refused();
            fake.proxy.mode = { kind: 'answer', status: 503 };
            await delay(FLAP_MS);
            // Down until a request met it, however fast or slow this machine is: every flap is one MLflow was seen to make.
            while (busy && refused() === before) await delay(FLAP_MS / 8);
            fake.proxy.mode = { kind: 'pass' };
            await delay(FLAP_MS);
          }
        })();
        const made: string[] = [];
        const pushCodes: (number | null)[] = [];
        try {
          await Promise.all([
            (async () => {
              for (let round = 0; round < ROUNDS; round++) {
                const [first, second, app] = await Promise.all([
                  chat(firstServe, 3),
                  chat(secondServe, 3),
                  runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.url, APP_TRACES: '2' }),
                ]);
                assert.equal(app.exports.failed, 0, app.exports.errors.join('\n'));
                made.push(...first, ...second, ...app.traceIds.map((hex) => `tr-${hex}`));
              }
            })(),
            (async () => {
              for (let push = 0; push < PUSHES; push++) pushCodes.push((await runCli(['traces', 'push'], { env: fake.env })).code);
            })(),
          ]);
        } finally {
          busy = false;
          await flapping;
        }
        fake.proxy.mode = { kind: 'pass' };

        // The relay hands over the traces it still holds as it stops; a last push sends what waits in backoff.
        const relayStopped = await relay.stop();
        assert.ok(relayStopped.code === 0 || relayStopped.code === 7, relayStopped.stdout + relayStopped.stderr);
        const last = await runCli(['traces', 'push'], { env: fake.env });
        pushCodes.push(last.code);
        assert.ok(
          pushCodes.every((code) => code === 0 || code === 7),
          `push exit codes: ${pushCodes.join(', ')}\n${last.stdout}${last.stderr}`,
        );

        await until(() => inMlflow(fake.server, made), 'every trace is in MLflow', { deadlineMs: LANDING_DEADLINE_MS });
        await untilStoreHolds(fake.storeDir, { local: 0, pending: 0, delivered: made.length, dead: 0 });
        assert.ok(refused() > 0, 'MLflow did flap');
        // A 503 answering the route probe must not turn a process to MLflow REST for good.
        assert.equal(
          fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/3.0/mlflow/traces').length,
          0,
          'every trace went over OTLP',
        );
        await assertTakenOnce(fake.proxy, made);
      } finally {
        // Stopping one already stopped only reads its exit code again.
        for (const process of running) await process.stop();
      }
    }));

  describe('a second request to stop, while MLflow holds the traces’ request unanswered', () => {
    /**
     * Stops `server` with one SIGINT, then, once it is shutting down, MLflow holds the traces' request,
     * and the first request's copies are behind it, another.
     */
    async function stopTwice(fake: Fake, server: ServeProcess, shuttingDown: RegExp) {
      process.kill(server.pid, 'SIGINT');
      await server.waitFor(shuttingDown);
      await until(() => fake.proxy.requests.some((r) => r.status === 'hung'), 'the traces on their way to MLflow');
      await delay(SAME_REQUEST_MS);
      const stopped = await server.stop('SIGINT');
      assert.equal(stopped.forced, false, stopped.stdout + stopped.stderr);
      return stopped;
    }

    it('serve stops waiting for the delivery, says the traces wait on disk, and exits as for pending traces', () =>
      withMlflowBehindProxy(async (fake) => {
        const serve = await startServe([], fake.env);
        await serve.waitFor(/^traces go to MLflow at /m);
        fake.proxy.mode = { kind: 'hang', path: '/v1/traces' };
        await chat(serve, 1);
        const stopped = await stopTwice(fake, serve, /^SIGINT: finishing in-flight requests .*; a second request stops waiting$/m);
        assert.equal(stopped.code, 7, stopped.stdout + stopped.stderr);
        assert.match(stopped.stdout, /^traces: 0 delivered, 1 pending in \S+ \(delivery stopped by SIGINT\); they are sent by /m);
        await untilStoreHolds(fake.storeDir, { local: 0, pending: 1, delivered: 0, dead: 0 });
      }));

    it('relay stops waiting for the delivery, says the traces wait on disk, and exits as for pending traces', () =>
      withMlflowBehindProxy(async (fake) => {
        const relay = await startRelayProcess([], fake.env);
        fake.proxy.mode = { kind: 'hang', path: '/v1/traces' };
        const app = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.url, APP_TRACES: '2' });
        assert.equal(app.exports.failed, 0, app.exports.errors.join('\n'));
        const stopped = await stopTwice(fake, relay, /^SIGINT: no longer receiving; .*; a second request stops waiting$/m);
        assert.equal(stopped.code, 7, stopped.stdout + stopped.stderr);
        assert.match(stopped.stdout, /^traces: 0 delivered, 2 pending in \S+ \(delivery stopped by SIGINT\); they are sent by /m);
        await untilStoreHolds(fake.storeDir, { local: 0, pending: 2, delivered: 0, dead: 0 });
      }));
  });

  describe('start without MLflow', () => {
    it('serve against a black hole listens promptly; GET / says the destination has not answered, its traces wait on disk, and it stops promptly', () =>
      withMlflowBehindProxy(async (fake) => {
        fake.proxy.mode = { kind: 'hang' };
        const started = Date.now();
        // A pending trace is serve's exit 7.
        await withServe(fake, { exit: 7, closing: /^traces: 0 delivered, 1 pending in /m }, async (serve) => {
          assert.ok(Date.now() - started < 10_000, `listening after ${Date.now() - started} ms`);
          const answer = await health(serve);
          assert.equal(answer.tracing.route, 'pending');
          assert.match(
            answer.tracing.destination,
            new RegExp(`^MLflow at ${fake.proxy.url}, experiment '${EXPERIMENT}' \\(not answered yet\\)$`),
          );
          const [traceId] = await chat(serve, 1);
          await until(
            () => withStore(fake.storeDir, (store) => store.reads.deliveryOf(traceId!.slice(3))?.state) === 'pending',
            'the trace waits on disk',
          );
        });
        assert.equal(fake.server.store.traces().length, 0);
      }));

    it('serve against an MLflow answering 500 starts, keeps its traces pending with the reason, and delivers them once MLflow answers', () =>
      withMlflowBehindProxy(async (fake) => {
        fake.proxy.mode = { kind: 'answer', status: 500 };
        await withServe(fake, { exit: 0, closing: /^traces: 3 delivered$/m }, async (serve) => {
          const traceIds = await chat(serve, 3);
          const answer = await health(serve);
          assert.equal(answer.tracing.route, 'pending');
          assert.match(answer.tracing.problem?.reason ?? '', /HTTP 500/);
          assert.match(answer.tracing.destination, /unreachable since .*HTTP 500/);
          assert.match(serve.output(), /cannot be reached .*HTTP 500.*traces wait in /);
          await untilStoreHolds(fake.storeDir, { local: 0, pending: 3, delivered: 0, dead: 0 });
          assert.equal(fake.server.store.traces().length, 0);

          fake.proxy.mode = { kind: 'pass' };
          await until(() => inMlflow(fake.server, traceIds), 'the traces reach MLflow once it answers', {
            deadlineMs: LANDING_DEADLINE_MS,
          });
          await serve.waitFor(/answers now; traces go to MLflow at /);
          await assertTakenOnce(fake.proxy, traceIds);
        });
      }));

    it('ask against an MLflow answering 500 prints its answer, keeps the trace pending on disk, and exits 7 with the reason', () =>
      withMlflowBehindProxy(async (fake) => {
        fake.proxy.mode = { kind: 'answer', status: 500 };
        const asked = await runCli(['ask', 'What is MLflow tracing?'], { env: fake.env });
        assert.equal(asked.code, 7, asked.stdout + asked.stderr);
        assert.match(asked.stdout, /\S/, 'the answer is printed');
        const traceId = /Trace (tr-[0-9a-f]{32})/.exec(asked.stderr)?.[1];
        assert.ok(traceId, asked.stderr);
        assert.match(asked.stderr, new RegExp(`trace ${traceId} was not exported to MLflow at .*HTTP 500.*it waits in ${fake.storeDir}`));
        assert.equal(
          withStore(fake.storeDir, (store) => store.reads.deliveryOf(traceId.slice(3))?.state),
          'pending',
        );
        assert.equal(fake.server.store.traces().length, 0);
      }));
  });

  it('a proxy answering 404 HTML for a few requests (a deploy) makes no dead letter: every trace arrives, once, when it passes again', () =>
    withMlflowBehindProxy((fake) =>
      withServe(fake, { exit: 0, closing: /^traces: 5 delivered$/m }, async (serve) => {
        fake.proxy.mode = { kind: 'answer', status: 404, html: true, path: '/v1/traces', times: 3 };
        const traceIds = await chat(serve, 5);
        await until(() => inMlflow(fake.server, traceIds), 'every trace is in MLflow', { deadlineMs: LANDING_DEADLINE_MS });
        assert.ok(fake.proxy.requests.filter((r) => r.status === 404).length >= 1, 'the proxy did answer 404');
        await untilStoreHolds(fake.storeDir, { local: 0, pending: 0, delivered: 5, dead: 0 });
        await assertTakenOnce(fake.proxy, traceIds);
        assert.match(serve.output(), /not delivered yet \(HTTP 404: not found .*not MLflow\)/);
        assert.doesNotMatch(serve.output(), /was refused/);
      }),
    ));

  it('a login proxy redirecting /v1/traces to /login: no trace is marked delivered, GET / and the log name the redirect, and every trace lands once after sign-in', () =>
    withMlflowBehindProxy((fake) =>
      withServe(fake, { exit: 0, closing: /^traces: 4 delivered$/m }, async (serve) => {
        fake.proxy.mode = { kind: 'redirect', location: '/login', path: '/v1/traces' };
        const traceIds = await chat(serve, 4);
        await until(() => fake.proxy.requests.some((r) => r.path === '/v1/traces' && r.status === 302), 'serve has tried to deliver');
        await serve.waitFor(
          /not delivered yet \(redirected \(302\) to http:\/\/127\.0\.0\.1:\d+\/login: a login proxy in front of MLflow\?\)/,
        );
        const answer = await health(serve);
        assert.match(
          answer.tracing.delivery?.last_error?.answer ?? '',
          /redirected \(302\) to .*\/login: a login proxy in front of MLflow\?/,
        );
        assert.equal(answer.tracing.delivery?.delivered, 0);
        await untilStoreHolds(fake.storeDir, { local: 0, pending: 4, delivered: 0, dead: 0 });
        assert.equal(fake.server.store.traces().length, 0);

        fake.proxy.mode = { kind: 'pass' };
        await until(() => inMlflow(fake.server, traceIds), 'every trace is in MLflow', { deadlineMs: LANDING_DEADLINE_MS });
        await assertTakenOnce(fake.proxy, traceIds);
      }),
    ));
});
