import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeTrace } from '../../src/destination/encode-trace.ts';
import { hex, realChatTrace, save, temporaryStores, traceAt } from './store-fixtures.ts';

const stores = temporaryStores();
const lease = { maxItems: 100, maxBytes: 1e9, leaseMs: 60_000 };

describe('TraceStore.outbox: leases, and what each try ended in', () => {
  it('leases a pending trace to one deliverer at a time, and gives it back after a failed try with the answer', () => {
    const store = stores.open();
    save(store, traceAt(hex('1'), 1_795_538_125_000), 'dest');
    const [claimed] = store.outbox.claim('dest', 'a', lease);
    assert.ok(claimed);
    assert.deepEqual(store.outbox.claim('dest', 'b', lease), [], 'leased to a');
    assert.deepEqual(store.outbox.claim('other', 'b', lease), [], 'pending for another destination');
    store.outbox.release([claimed], { status: 503, answer: 'HTTP 503: busy' });
    const delivery = store.reads.deliveryOf(hex('1'))!;
    assert.equal(delivery.state, 'pending');
    assert.equal(delivery.lastStatus, 503);
    assert.equal(delivery.lastAnswer, 'HTTP 503: busy');
    assert.equal(delivery.attempts, 1);
    const [again] = store.outbox.claim('dest', 'b', lease);
    assert.equal(again?.attempts, 1, 'the next try knows one was made before');
  });

  it('takes a lease back once it ran out (a deliverer that died)', () => {
    let now = 1_000_000;
    const store = stores.open({ now: () => now });
    store.writes.write([{ ...encodeTrace(traceAt(hex('1'), 1_795_538_125_000)), origin: 'test', destination: 'dest' }]);
    assert.equal(store.outbox.claim('dest', 'a', lease).length, 1);
    now += lease.leaseMs + 1;
    assert.equal(store.outbox.claim('dest', 'b', lease).length, 1);
  });

  it('claims within the byte limit, oldest first, but always at least one trace', () => {
    const store = stores.open();
    for (const digit of ['1', '2', '3']) save(store, traceAt(hex(digit), 1_795_538_125_000), 'dest');
    const one = store.outbox.claim('dest', 'a', { ...lease, maxBytes: 1 });
    assert.deepEqual(
      one.map((t) => t.hex),
      [hex('1')],
    );
    assert.deepEqual(
      store.outbox.claim('dest', 'a', lease).map((t) => t.hex),
      [hex('2'), hex('3')],
    );
  });

  it('keeps a trace pending when late spans changed it while it was being delivered', () => {
    const store = stores.open();
    const spans = realChatTrace();
    const late = spans.find((span) => span.name === 'calculator')!;
    save(
      store,
      spans.filter((span) => span !== late),
      'dest',
    );
    const claimed = store.outbox.claim('dest', 'a', lease);
    save(store, [late], 'dest');
    store.outbox.markDelivered(claimed, { status: 200 });
    assert.equal(store.reads.deliveryOf(late.spanContext().traceId)?.state, 'pending');
    store.outbox.markDelivered(store.outbox.claim('dest', 'a', lease), { status: 200 });
    assert.equal(store.reads.deliveryOf(late.spanContext().traceId)?.state, 'delivered');
  });

  it('dead-letters a refused trace with the answer, and a push makes it pending again', () => {
    const store = stores.open();
    save(store, traceAt(hex('1'), 1_795_538_125_000), 'dest');
    store.outbox.markDead(store.outbox.claim('dest', 'a', lease)[0]!, { status: 400, answer: 'HTTP 400: bad span' });
    assert.equal(store.reads.deliveryOf(hex('1'))?.state, 'dead');
    assert.deepEqual(store.outbox.claim('dest', 'a', lease), []);
    assert.deepEqual(store.outbox.requeue([hex('1')], 'dest'), { requeued: [hex('1')], leased: [], delivered: [] });
    assert.equal(store.outbox.claim('dest', 'a', lease).length, 1);
  });
});

describe('TraceStore.outbox: traces requeued by a push', () => {
  it('a push never takes a trace from a process that holds its lease: that one delivers it', () => {
    const store = stores.open();
    save(store, traceAt(hex('1'), 1_795_538_125_000), 'dest');
    save(store, traceAt(hex('2'), 1_795_538_126_000));
    const [held] = store.outbox.claim('dest', 'serve', { ...lease, maxItems: 1 });
    assert.equal(held?.hex, hex('1'));
    assert.deepEqual(store.outbox.requeue([hex('1'), hex('2')], 'other'), { requeued: [hex('2')], leased: [hex('1')], delivered: [] });
    assert.deepEqual(store.outbox.claim('dest', 'push', lease), [], 'still leased to the first');
    assert.deepEqual(
      store.outbox.claim('other', 'push', lease).map((trace) => trace.hex),
      [hex('2')],
    );
    assert.equal(store.outbox.leaseOwnerOf(hex('1')), 'serve');
  });

  it('a push never sends again a trace another process delivered there after the push chose it', () => {
    const store = stores.open();
    save(store, traceAt(hex('1'), 1_795_538_125_000), 'dest');
    save(store, traceAt(hex('2'), 1_795_538_126_000), 'dest');
    // The push chose both while they were pending; serve delivered the first before the push requeued them.
    const chosen = store.reads.select({ states: ['pending'] });
    store.outbox.markDelivered(store.outbox.claim('dest', 'serve', { ...lease, maxItems: 1 }), { status: 200 });
    assert.deepEqual(store.outbox.requeue(chosen, 'dest'), { requeued: [hex('2')], leased: [], delivered: [hex('1')] });
    assert.equal(store.reads.deliveryOf(hex('1'))?.state, 'delivered');
    assert.deepEqual(
      store.outbox.claim('dest', 'push', lease).map((trace) => trace.hex),
      [hex('2')],
    );
  });
});

describe('TraceStore.outbox: traces leased to a deliverer as they are written', () => {
  const written = (digit: string, extra: object = {}) => ({
    ...encodeTrace(traceAt(hex(digit), 1_795_538_125_000)),
    origin: 'test',
    destination: 'dest',
    ...extra,
  });

  it('hands the offering deliverer its new traces in batches within its limits, leased to it and counted as a try', () => {
    const store = stores.open();
    const size = written('1').otlp.length;
    const result = store.writes.write(
      ['1', '2', '3', '4', '5'].map((digit) => written(digit)),
      new Map([['dest', { owner: 'serve', limits: { maxItems: 2, maxBytes: 1e9, leaseMs: 60_000 }, batches: 2 }]]),
    );
    const batches = result.leased.get('dest') ?? [];
    assert.deepEqual(
      batches.map((batch) => batch.map((trace) => trace.hex)),
      [
        [hex('1'), hex('2')],
        [hex('3'), hex('4')],
      ],
      'as many batches as offered',
    );
    assert.deepEqual(batches[0]![0], {
      hex: hex('1'),
      traceId: `tr-${hex('1')}`,
      version: 1,
      otlp: written('1').otlp,
      bytes: size,
      attempts: 0,
    });
    assert.equal(result.leasedCount, 4);
    assert.equal(store.outbox.leaseOwnerOf(hex('1')), 'serve');
    assert.equal(store.reads.deliveryOf(hex('1'))?.attempts, 1);
    assert.deepEqual(
      store.outbox.claim('dest', 'other', lease).map((trace) => trace.hex),
      [hex('5')],
      'only the one not offered for is claimed by another',
    );
    store.outbox.markDelivered(batches.flat(), { status: 200 });
    assert.deepEqual(store.reads.counts('dest'), { local: 0, pending: 1, delivered: 4, dead: 0 });
  });

  it('leases neither traces held for their parts, nor traces for another destination, nor traces merged into one stored', () => {
    const store = stores.open();
    save(store, traceAt(hex('3'), 1_795_538_125_000), 'dest');
    const offers = new Map([['dest', { owner: 'serve', limits: lease, batches: 8 }]]);
    const result = store.writes.write(
      [written('1', { hold: { quietMs: 1000, maxWaitMs: 5000 } }), written('2', { destination: 'elsewhere' }), written('3')],
      offers,
    );
    assert.equal(result.written, 3);
    assert.deepEqual([result.leased.size, result.leasedCount], [0, 0]);
    assert.equal(store.outbox.leaseOwnerOf(hex('3')), undefined);
  });

  it('a batch starts anew where the byte limit would be passed, and one trace larger than it goes alone', () => {
    const store = stores.open();
    const size = written('1').otlp.length;
    const result = store.writes.write(
      ['1', '2', '3'].map((digit) => written(digit)),
      new Map([['dest', { owner: 'serve', limits: { maxItems: 100, maxBytes: size * 2 - 1, leaseMs: 60_000 }, batches: 8 }]]),
    );
    assert.deepEqual(
      result.leased.get('dest')?.map((batch) => batch.length),
      [1, 1, 1],
    );
  });
});
