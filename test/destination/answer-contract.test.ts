import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_SERVER_PAUSE_MS } from '../../src/destination/classify-answer.ts';
import { otlpSender } from '../../src/destination/senders/otlp-sender.ts';
import { restSender } from '../../src/destination/senders/rest-sender.ts';
import type { OutgoingTrace, Sender } from '../../src/destination/sender.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { createMlflowHttp } from '../../src/mlflow/http.ts';
import { decodeOtlpProtobuf } from '../../src/otlp/otlp-decode.ts';
import { Deliverer, type DeliveryEvent } from '../../src/pipeline/deliver/deliverer.ts';
import { TraceStore } from '../../src/pipeline/store/trace-store.ts';
import type { ClaimedTrace } from '../../src/pipeline/store/trace-outbox.ts';
import { encodeTrace } from '../../src/destination/encode-trace.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFaultyProxy, type FaultyProxy, type ProxyMode } from '../fakes/faulty-proxy.ts';
import { ManualClock } from '../fakes/manual-clock.ts';
import { until } from '../fakes/until.ts';
import { chatTrace, memoryTracer } from '../tracing/span-fixtures.ts';

const KEY = 'answer-contract';
const BACKOFF = { baseMs: 100, maxMs: 1_000 };
const TRACES = 6;
const SIGN_IN = '<!doctype html><html><head><title>Sign in</title></head><body>Your session expired.</body></html>';
const NGINX_404 =
  '<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>';

let root: string;
let stores = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-answers-'));
});
after(() => rm(root, { recursive: true, force: true }));

interface Setup {
  server: FakeMlflow;
  proxy: FaultyProxy;
  experimentId: string;
  store: TraceStore;
  clock: ManualClock;
  events: DeliveryEvent[];
  deliverer: Deliverer<ClaimedTrace>;
  ids: string[];
  close(): Promise<void>;
}

async function setUp(route: 'otlp' | 'rest', options: { timeoutMs?: number } = {}): Promise<Setup> {
  const server = await startFakeMlflow({ version: '3.14.1.dev0' });
  const experimentId = server.createExperiment('answers');
  const proxy = await startFaultyProxy(server.url);
  const http = createMlflowHttp({
    baseUrl: proxy.url,
    auth: createAuthProvider({ kind: 'none' }),
    ...(options.timeoutMs && { timeoutMs: options.timeoutMs }),
  });
  const sender: Sender<OutgoingTrace> =
    route === 'otlp'
      ? otlpSender({
          description: 'the fake',
          http,
          path: '/v1/traces',
          headers: { 'x-mlflow-experiment-id': experimentId },
          encoding: 'protobuf',
          gzip: false,
        })
      : restSender({ description: 'the fake', http, experimentId, artifactUpload: 'mlflow-artifacts' });
  const store = TraceStore.open(join(root, `s${++stores}`));
  const { tracer, finished } = memoryTracer();
  for (let i = 0; i < TRACES; i++) chatTrace(tracer);
  const traces = [...Map.groupBy(finished(), (span) => span.spanContext().traceId).values()].map(encodeTrace);
  store.writes.write(traces.map((trace) => ({ ...trace, origin: 'test', destination: KEY })));
  const clock = new ManualClock();
  const events: DeliveryEvent[] = [];
  const deliverer = new Deliverer<ClaimedTrace>({
    queue: store.outbox,
    key: KEY,
    sender,
    clock,
    backoff: BACKOFF,
    onEvent: (event) => events.push(event),
  });
  return {
    server,
    proxy,
    experimentId,
    store,
    clock,
    events,
    deliverer,
    ids: traces.map((trace) => trace.hex),
    async close() {
      deliverer.stop();
      store.close();
      await proxy.close();
      await server.close();
    },
  };
}

/** Trace ids in every OTLP request the proxy answered 200, one entry per trace per request. */
function acceptedOverOtlp(proxy: FaultyProxy): string[] {
  return proxy.requests
    .filter((r) => r.path === '/v1/traces' && r.status === 200)
    .flatMap((r) => [...new Set(decodeOtlpProtobuf(r.body).flatMap((rs) => rs.spans.map((s) => s.traceId.toString('hex'))))]);
}

/**
 * With `fault` in front of MLflow: no trace is marked delivered (nor dead), MLflow stores none, and
 * each waits with the reason; once the proxy passes again (time moved past the pause), every trace is
 * in MLflow exactly once. Returns the pause the deliverer took and the reason it recorded.
 */
async function waitsThenDelivers(setup: Setup, fault: ProxyMode): Promise<{ delayMs: number; reason: string }> {
  const { proxy, store, deliverer, events, clock, server, experimentId } = setup;
  proxy.mode = fault;
  deliverer.start();
  await until(() => events.some((event) => event.kind === 'retry'), 'the deliverer is told to wait');
  const retry = events.find((event) => event.kind === 'retry')!;
  assert.ok(retry.kind === 'retry');
  assert.deepEqual(store.reads.counts(KEY), { local: 0, pending: TRACES, delivered: 0, dead: 0 }, 'nothing delivered, nothing dead');
  assert.equal(server.store.traces(experimentId).length, 0);
  const reason = store.reads.deliveryOf(setup.ids[0]!)?.lastAnswer ?? '';
  proxy.mode = { kind: 'pass' };
  clock.advance(retry.delayMs);
  // Requests that were in flight when the fault ended may have met it too: time moves on in steps of the longest backoff.
  await until(() => {
    if (store.reads.counts(KEY).delivered === TRACES) return true;
    clock.advance(BACKOFF.maxMs);
    return false;
  }, 'every trace is delivered once the proxy passes');
  assert.equal(server.store.traces(experimentId).length, TRACES);
  return { delayMs: retry.delayMs, reason };
}

describe('an answer counts only when it is MLflow’s (OTLP)', () => {
  it('a login proxy whose session expired (302 to /login) delivers nothing; the redirect is named and never followed', async () => {
    const setup = await setUp('otlp');
    try {
      const { reason } = await waitsThenDelivers(setup, { kind: 'redirect', location: '/login' });
      assert.match(reason, /redirected \(302\) to http:\/\/127\.0\.0\.1:\d+\/login: a login proxy in front of MLflow\?/);
      assert.equal(setup.proxy.requests.filter((r) => r.path === '/login').length, 0, 'the sign-in page is never asked for');
      const accepted = acceptedOverOtlp(setup.proxy);
      assert.deepEqual([...accepted].sort(), [...setup.ids].sort(), 'each trace accepted exactly once');
    } finally {
      await setup.close();
    }
  });

  const notMlflow: [string, ProxyMode, RegExp][] = [
    [
      'a 200 sign-in page',
      { kind: 'answer', status: 200, contentType: 'text/html', body: SIGN_IN },
      /HTTP 200 with an HTML page "Sign in" instead of MLflow's answer/,
    ],
    [
      'a 200 that is plain text',
      { kind: 'answer', status: 200, body: 'OK' },
      /HTTP 200 with a text\/plain body instead of MLflow's answer/,
    ],
    [
      'a 200 labelled protobuf that is no export response',
      { kind: 'answer', status: 200, contentType: 'application/x-protobuf', body: 'garbage, not protobuf' },
      /no OTLP export response/,
    ],
    [
      'a 200 with some other service’s JSON',
      { kind: 'answer', status: 200, contentType: 'application/json', body: '{"status":"ok"}' },
      /no OTLP export response/,
    ],
    ['a 200 with no body and no Content-Type', { kind: 'answer', status: 200, contentType: '', body: '' }, /no Content-Type/],
    [
      'a proxy’s 404 page (a deploy, a misroute)',
      { kind: 'answer', status: 404, contentType: 'text/html', server: 'nginx/1.25.3', body: NGINX_404 },
      /HTTP 404: .*from a proxy, nginx\/1\.25\.3, not MLflow/,
    ],
    [
      'a proxy’s 405 page',
      { kind: 'answer', status: 405, contentType: 'text/html', server: 'nginx', body: '<html><title>405 Not Allowed</title></html>' },
      /HTTP 405: HTML page "405 Not Allowed" \(from a proxy, nginx, not MLflow\)/,
    ],
    [
      'a proxy’s 401 page',
      {
        kind: 'answer',
        status: 401,
        contentType: 'text/html',
        server: 'nginx',
        body: '<html><title>401 Authorization Required</title></html>',
      },
      /HTTP 401: .*from a proxy, nginx/,
    ],
  ];
  for (const [what, fault, reason] of notMlflow) {
    it(`${what}: nothing is delivered or dead; the traces wait with the reason and go once MLflow answers`, async () => {
      const setup = await setUp('otlp');
      try {
        const waited = await waitsThenDelivers(setup, fault);
        assert.match(waited.reason, reason);
      } finally {
        await setup.close();
      }
    });
  }

  it('a body far larger than any answer MLflow gives is not read to its end, and the traces wait', async () => {
    const setup = await setUp('otlp');
    try {
      const { reason } = await waitsThenDelivers(setup, { kind: 'huge', status: 503, bytes: 450 * 1024 ** 2 });
      assert.match(reason, /more than 1 MiB \(HTTP 503, text\/html\)/);
      const huge = setup.proxy.requests.find((r) => r.hugeAnswer)!;
      const ended = await huge.hugeAnswer!;
      assert.ok(
        !ended.complete && ended.bytesWritten < 16 * 1024 ** 2,
        `${ended.bytesWritten} bytes were written before the client hung up`,
      );
    } finally {
      await setup.close();
    }
  });

  it('a server that never answers (a black hole) times the request out; the traces wait', async () => {
    const setup = await setUp('otlp', { timeoutMs: 300 });
    try {
      const { reason } = await waitsThenDelivers(setup, { kind: 'hang' });
      assert.match(reason, /No answer from 127\.0\.0\.1:\d+ within 0\.3 s/);
    } finally {
      await setup.close();
    }
  });

  for (const retryAfter of ['86400', '99999999']) {
    it(`Retry-After: ${retryAfter} is honoured up to ${MAX_SERVER_PAUSE_MS / 60_000} minutes, then delivery resumes; no timer overflows`, async () => {
      const setup = await setUp('otlp');
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(warning.name);
      process.on('warning', onWarning);
      try {
        const { delayMs, reason } = await waitsThenDelivers(setup, { kind: 'answer', status: 429, retryAfter, times: 1 });
        assert.equal(delayMs, MAX_SERVER_PAUSE_MS);
        assert.match(reason, /HTTP 429/);
        assert.deepEqual(
          warnings.filter((name) => name === 'TimeoutOverflowWarning'),
          [],
        );
      } finally {
        process.off('warning', onWarning);
        await setup.close();
      }
    });
  }
});

describe('an answer counts only when it is MLflow’s (REST)', () => {
  const faults: [string, ProxyMode, RegExp][] = [
    [
      'StartTraceV3 answered by a sign-in page',
      { kind: 'answer', status: 200, contentType: 'text/html', body: SIGN_IN, path: '/api/3.0/mlflow/traces' },
      /registering the trace failed: HTTP 200 with an HTML page "Sign in"/,
    ],
    [
      'StartTraceV3 answered with empty JSON',
      { kind: 'answer', status: 200, contentType: 'application/json', body: '{}', path: '/api/3.0/mlflow/traces' },
      /registering the trace failed: HTTP 200 with JSON without the trace info of tr-/,
    ],
    [
      'StartTraceV3 redirected to a login page',
      { kind: 'redirect', location: '/login', path: '/api/3.0/mlflow/traces' },
      /registering the trace failed: redirected \(302\) to .*\/login: a login proxy in front of MLflow\?/,
    ],
  ];
  for (const [what, fault, reason] of faults) {
    it(`${what}: nothing is delivered; the traces wait with the reason and go once MLflow answers`, async () => {
      const setup = await setUp('rest');
      try {
        const waited = await waitsThenDelivers(setup, fault);
        assert.match(waited.reason, reason);
        for (const id of setup.ids)
          assert.equal(setup.server.store.getTrace(`tr-${id}`)?.spans.length, 3, 'registered once, with its spans');
      } finally {
        await setup.close();
      }
    });
  }
});
