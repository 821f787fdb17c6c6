import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { createMlflowHttp } from '../../src/mlflow/http.ts';
import { Deliverer, type DeliveryEvent } from '../../src/pipeline/deliver/deliverer.ts';
import { otlpSender } from '../../src/destination/senders/otlp-sender.ts';
import { encodeLocalTrace, encodeTrace } from '../../src/destination/encode-trace.ts';
import { decodeTrace, type EncodedTrace } from '../../src/destination/encoded-trace.ts';
import type { LeaseOffer } from '../../src/pipeline/store/trace-outbox.ts';
import { TraceStore } from '../../src/pipeline/store/trace-store.ts';
import { startFakeMlflow, type MlflowVersion } from '../fakes/fake-mlflow.ts';
import { startFaultyProxy, tracesAccepted, type FaultyProxy } from '../fakes/faulty-proxy.ts';
import { chatTrace, memoryTracer } from '../tracing/span-fixtures.ts';

const DEST = 'mlflow test experiment';
/** Fast backoff: the behaviour is the same, the tests need not wait out real-world delays. */
const QUICK = { baseMs: 20, maxMs: 200 };

let root: string;
let dirs = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-deliver-'));
});
after(() => rm(root, { recursive: true, force: true }));

function chatTraces(count: number): EncodedTrace[] {
  const { tracer, finished } = memoryTracer();
  for (let i = 0; i < count; i++) chatTrace(tracer);
  return [...Map.groupBy(finished(), (span) => span.spanContext().traceId).values()].map(encodeTrace);
}

function openStore(dir = join(root, `s${++dirs}`)): TraceStore {
  return TraceStore.open(dir);
}

function fill(store: TraceStore, traces: EncodedTrace[]): string[] {
  store.writes.write(traces.map((trace) => ({ ...trace, origin: 'test', destination: DEST })));
  return traces.map((trace) => trace.hex);
}

async function mlflowBehind(version: MlflowVersion) {
  const server = await startFakeMlflow({ version });
  const experimentId = server.createExperiment('deliver');
  const proxy = await startFaultyProxy(server.url);
  return {
    server,
    experimentId,
    proxy,
    close: async () => {
      await proxy.close();
      await server.close();
    },
  };
}

function destinationAt(proxy: FaultyProxy, experimentId: string, timeoutMs = 5_000) {
  const http = createMlflowHttp({ baseUrl: proxy.url, auth: createAuthProvider({ kind: 'none' }), timeoutMs });
  return otlpSender({
    description: 'the fake',
    http,
    path: '/v1/traces',
    headers: { 'x-mlflow-experiment-id': experimentId },
    encoding: 'protobuf',
    gzip: false,
  });
}

/** A fake MLflow behind a faulty proxy and a store of its own, both closed once `work` ends. */
async function withMlflowAndStore(work: (fake: Awaited<ReturnType<typeof mlflowBehind>>, store: TraceStore) => Promise<void>) {
  const fake = await mlflowBehind('3.14.1.dev0');
  const store = openStore();
  try {
    await work(fake, store);
  } finally {
    store.close();
    await fake.close();
  }
}

/** Delivers what waits in the store for DEST to the fake, until nothing is left. */
async function drainOnce(fake: Awaited<ReturnType<typeof mlflowBehind>>, store: TraceStore): Promise<void> {
  const deliverer = new Deliverer({ queue: store.outbox, key: DEST, sender: destinationAt(fake.proxy, fake.experimentId), backoff: QUICK });
  await deliverer.drain({ deadlineMs: 10_000 });
  deliverer.stop();
}

describe('Deliverer', () => {
  it('sends many traces per request and marks each delivered, exactly once', async () => {
    const fake = await mlflowBehind('3.14.1.dev0');
    const store = openStore();
    try {
      const ids = fill(store, chatTraces(50));
      const deliverer = new Deliverer({
        queue: store.outbox,
        key: DEST,
        sender: destinationAt(fake.proxy, fake.experimentId),
        backoff: QUICK,
      });
      await deliverer.drain({ deadlineMs: 10_000 });
      deliverer.stop();
      assert.deepEqual(store.reads.counts(DEST), { local: 0, pending: 0, delivered: 50, dead: 0 });
      assert.equal(fake.server.store.traces(fake.experimentId).length, 50);
      assert.ok(fake.proxy.requests.length <= 2, `50 traces in ${fake.proxy.requests.length} requests`);
      assert.deepEqual(tracesAccepted(fake.proxy).sort(), [...ids].sort());
    } finally {
      store.close();
      await fake.close();
    }
  });

  for (const version of ['3.8.1', '3.14.1.dev0'] as const) {
    it(`MLflow ${version}: one bad trace in a batch is dead-lettered alone, with the server's answer; the rest land`, async () => {
      const fake = await mlflowBehind(version);
      const store = openStore();
      try {
        const traces = chatTraces(9);
        const [bad] = chatTraces(1);
        // An empty span id: MLflow 3.11+ refuse the whole request for it, older servers store it.
        const broken = encodeLocalTrace(
          decodeTrace(bad!.otlp).map((span, i) => (i === 0 ? { ...span, spanId: '0000000000000000' } : span)),
        );
        fill(store, [...traces.slice(0, 4), broken, ...traces.slice(4)]);
        const deliverer = new Deliverer({
          queue: store.outbox,
          key: DEST,
          sender: destinationAt(fake.proxy, fake.experimentId),
          backoff: QUICK,
        });
        await deliverer.drain({ deadlineMs: 10_000 });
        deliverer.stop();
        const landed = fake.server.store.traces(fake.experimentId).map((t) => t.info.trace_id);
        for (const trace of traces) assert.ok(landed.includes(`tr-${trace.hex}`));
        if (version === '3.14.1.dev0') {
          assert.deepEqual(store.reads.counts(DEST), { local: 0, pending: 0, delivered: 9, dead: 1 });
          const dead = store.reads.deliveryOf(broken.hex)!;
          assert.equal(dead.state, 'dead');
          assert.equal(dead.lastStatus, 422);
          assert.match(dead.lastAnswer ?? '', /Cannot convert OpenTelemetry span to MLflow span/);
        } else {
          assert.deepEqual(store.reads.counts(DEST), { local: 0, pending: 0, delivered: 10, dead: 0 });
        }
      } finally {
        store.close();
        await fake.close();
      }
    });
  }

  it('keeps traces pending while MLflow is down, and delivers every one exactly once when it is back', async () => {
    const fake = await mlflowBehind('3.14.1.dev0');
    const store = openStore();
    const events: DeliveryEvent[] = [];
    try {
      await fake.proxy.down();
      const ids = fill(store, chatTraces(20));
      const deliverer = new Deliverer({
        queue: store.outbox,
        key: DEST,
        sender: destinationAt(fake.proxy, fake.experimentId),
        backoff: QUICK,
        onEvent: (e) => events.push(e),
      });
      deliverer.start();
      await deliverer.drain({ deadlineMs: 10_000, maxConsecutiveFailures: 3 });
      assert.equal(store.reads.counts(DEST).pending, 20, 'nothing dropped while the server is down');
      assert.match(store.reads.deliveryOf(ids[0]!)?.lastAnswer ?? '', /closed the connection before answering/);
      fill(store, chatTraces(5));
      await fake.proxy.up();
      await deliverer.drain({ deadlineMs: 10_000 });
      deliverer.stop();
      assert.deepEqual(store.reads.counts(DEST), { local: 0, pending: 0, delivered: 25, dead: 0 });
      assert.equal(fake.server.store.traces(fake.experimentId).length, 25);
      const accepted = tracesAccepted(fake.proxy);
      assert.equal(new Set(accepted).size, accepted.length, 'no trace sent twice');
      assert.ok(events.some((e) => e.kind === 'retry'));
    } finally {
      store.close();
      await fake.close();
    }
  });

  for (const status of [503, 429]) {
    it(`waits as long as Retry-After says on ${status}, then delivers`, async () => {
      const fake = await mlflowBehind('3.14.1.dev0');
      const store = openStore();
      try {
        fill(store, chatTraces(3));
        fake.proxy.mode = { kind: 'answer', status, retryAfter: '1', times: 1 };
        const deliverer = new Deliverer({
          queue: store.outbox,
          key: DEST,
          sender: destinationAt(fake.proxy, fake.experimentId),
          backoff: QUICK,
        });
        await deliverer.drain({ deadlineMs: 10_000 });
        deliverer.stop();
        assert.equal(store.reads.counts(DEST).delivered, 3);
        const [refused, retried] = fake.proxy.requests;
        assert.equal(refused?.status, status);
        assert.ok(retried && retried.at - refused.at >= 900, `retried after ${retried && retried.at - refused.at} ms`);
      } finally {
        store.close();
        await fake.close();
      }
    });
  }

  it('gives up on a request that hangs past the timeout and delivers on the next try', async () => {
    const fake = await mlflowBehind('3.14.1.dev0');
    const store = openStore();
    try {
      fill(store, chatTraces(2));
      fake.proxy.mode = { kind: 'hang' };
      const deliverer = new Deliverer({
        queue: store.outbox,
        key: DEST,
        sender: destinationAt(fake.proxy, fake.experimentId, 200),
        backoff: QUICK,
      });
      deliverer.start();
      await deliverer.drain({ deadlineMs: 5_000, maxConsecutiveFailures: 1 });
      assert.match(
        store.reads.deliveryOf(store.reads.list()[0]!.traceId.slice(3))?.lastAnswer ?? '',
        /No answer from 127\.0\.0\.1:\d+ within 0\.2 s/,
      );
      fake.proxy.mode = { kind: 'pass' };
      await deliverer.drain({ deadlineMs: 10_000 });
      deliverer.stop();
      assert.equal(store.reads.counts(DEST).delivered, 2);
      assert.equal(fake.server.store.traces(fake.experimentId).length, 2);
    } finally {
      store.close();
      await fake.close();
    }
  });

  it('two processes sharing one store never send the same trace twice', async () => {
    const fake = await mlflowBehind('3.14.1.dev0');
    const dir = join(root, 'shared');
    const first = openStore(dir);
    const second = openStore(dir);
    try {
      const ids = fill(first, chatTraces(120));
      const deliverers = [first, second].map(
        (store) =>
          new Deliverer({
            queue: store.outbox,
            key: DEST,
            sender: { ...destinationAt(fake.proxy, fake.experimentId), maxItemsPerRequest: 7 },
            backoff: QUICK,
          }),
      );
      await Promise.all(deliverers.map((d) => d.drain({ deadlineMs: 20_000 })));
      for (const d of deliverers) d.stop();
      assert.equal(first.reads.counts(DEST).delivered, 120);
      const accepted = tracesAccepted(fake.proxy);
      assert.deepEqual([...accepted].sort(), [...ids].sort(), 'each trace sent exactly once');
      assert.ok(
        deliverers.every((d) => d.stats.delivered > 0),
        'both took part',
      );
    } finally {
      first.close();
      second.close();
      await fake.close();
    }
  });

  const deadLeases = {
    claimed: (store: TraceStore, offer: LeaseOffer) => store.outbox.claim(DEST, offer.owner, offer.limits).length,
    'leased as they were written': (store: TraceStore, offer: LeaseOffer) =>
      store.writes.write(
        chatTraces(4).map((trace) => ({ ...trace, origin: 'test', destination: DEST })),
        new Map([[DEST, offer]]),
      ).leasedCount,
  };
  for (const [how, lease] of Object.entries(deadLeases)) {
    it(`takes over at once the traces a process that died (SIGKILL) on this machine had ${how}`, () =>
      withMlflowAndStore(async (fake, store) => {
        if (how === 'claimed') fill(store, chatTraces(4));
        const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
        const offer = { owner: `${hostname()}:${dead}:abcd`, limits: { maxItems: 10, maxBytes: 1e9, leaseMs: 600_000 }, batches: 1 };
        assert.equal(lease(store, offer), 4);
        await drainOnce(fake, store);
        assert.equal(store.reads.counts(DEST).delivered, 4, 'not left until the ten-minute lease ran out');
      }));
  }

  it('sends traces leased to it as they were written from memory, each once, without claiming them back', () =>
    withMlflowAndStore(async (fake, store) => {
      const claimed: number[] = [];
      const claim = store.outbox.claim.bind(store.outbox);
      store.outbox.claim = (...args) => {
        const items = claim(...args);
        claimed.push(items.length);
        return items;
      };
      const deliverer = new Deliverer({
        queue: store.outbox,
        key: DEST,
        sender: destinationAt(fake.proxy, fake.experimentId),
        backoff: QUICK,
      });
      await deliverer.drain({ deadlineMs: 10_000 });
      const offer = deliverer.offer();
      assert.ok(offer, 'an idle deliverer offers to take new traces');
      const traces = chatTraces(30);
      const written = store.writes.write(
        traces.map((trace) => ({ ...trace, origin: 'test', destination: DEST })),
        new Map([[DEST, offer]]),
      );
      assert.equal(written.leasedCount, 30);
      deliverer.hand(written.leased.get(DEST)!);
      await deliverer.drain({ deadlineMs: 10_000 });
      deliverer.stop();
      assert.deepEqual(store.reads.counts(DEST), { local: 0, pending: 0, delivered: 30, dead: 0 });
      assert.deepEqual([...tracesAccepted(fake.proxy)].sort(), traces.map((trace) => trace.hex).sort(), 'each sent once');
      assert.ok(
        claimed.every((n) => n === 0),
        `nothing was claimed back from the store (${claimed})`,
      );
    }));

  it('offers to take new traces only while nothing older waits for it and it is not paused', () =>
    withMlflowAndStore(async (fake, store) => {
      fill(store, chatTraces(3));
      const deliverer = new Deliverer({
        queue: store.outbox,
        key: DEST,
        // One trace a request, two requests at first: the third waits in the store.
        sender: { ...destinationAt(fake.proxy, fake.experimentId), maxItemsPerRequest: 1 },
        backoff: QUICK,
      });
      assert.equal(deliverer.offer(), undefined, 'not started');
      deliverer.start();
      assert.equal(deliverer.offer(), undefined, 'traces written before wait in the store, and go first');
      await deliverer.drain({ deadlineMs: 10_000 });
      assert.equal(store.reads.counts(DEST).delivered, 3);
      assert.ok(deliverer.offer());
      fake.proxy.mode = { kind: 'answer', status: 503, retryAfter: '60', times: 1 };
      fill(store, chatTraces(1));
      await deliverer.drain({ deadlineMs: 10_000, maxConsecutiveFailures: 1 });
      assert.equal(deliverer.offer(), undefined, 'paused by the server');
      deliverer.stop();
      assert.equal(deliverer.offer(), undefined, 'stopped');
    }));

  it('dead-letters a record torn on disk with the reason, and delivers the others', async () => {
    const fake = await mlflowBehind('3.14.1.dev0');
    const dir = join(root, 'torn');
    const store = openStore(dir);
    try {
      const [torn, ...rest] = fill(store, chatTraces(3));
      const db = new DatabaseSync(store.path);
      db.prepare('UPDATE trace_bodies SET otlp = substr(otlp, 1, 40) WHERE id = (SELECT body_id FROM traces WHERE trace_id = ?)').run(
        torn!,
      );
      db.close();
      const deliverer = new Deliverer({
        queue: store.outbox,
        key: DEST,
        sender: destinationAt(fake.proxy, fake.experimentId),
        backoff: QUICK,
      });
      await deliverer.drain({ deadlineMs: 10_000 });
      deliverer.stop();
      assert.equal(store.reads.deliveryOf(torn!)?.state, 'dead');
      assert.match(store.reads.deliveryOf(torn!)?.lastAnswer ?? '', /damaged/);
      for (const id of rest) assert.equal(store.reads.deliveryOf(id)?.state, 'delivered');
    } finally {
      store.close();
      await fake.close();
    }
  });
});
