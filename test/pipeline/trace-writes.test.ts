import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { toReadableSpans } from '../../src/spans/readable-spans.ts';
import { encodeTrace } from '../../src/destination/encode-trace.ts';
import { decodeTrace } from '../../src/destination/encoded-trace.ts';
import { readableSpan } from '../fakes/readable-spans.ts';
import { hex, realChatTrace, save, temporaryStores, traceAt } from './store-fixtures.ts';

const stores = temporaryStores();

describe('TraceStore.writes: traces in, merged span by span', () => {
  it('keeps every span with the same ids, exact nanosecond times, attributes, events, resource and scope', async () => {
    const store = stores.open();
    const spans = realChatTrace();
    const traceId = save(store, spans);
    assert.equal(traceId, `tr-${spans[0]!.spanContext().traceId}`);

    const stored = store.reads.get(traceId);
    assert.ok(stored);
    const rebuilt = new Map(toReadableSpans(stored.spans).map((span) => [span.spanContext().spanId, span]));
    assert.equal(rebuilt.size, spans.length);
    for (const original of spans) {
      const copy = rebuilt.get(original.spanContext().spanId);
      assert.ok(copy, original.name);
      assert.equal(copy.spanContext().traceId, original.spanContext().traceId);
      assert.equal(copy.parentSpanContext?.spanId, original.parentSpanContext?.spanId);
      assert.deepEqual(copy.startTime, original.startTime);
      assert.deepEqual(copy.endTime, original.endTime);
      assert.deepEqual(copy.duration, original.duration);
      assert.equal(copy.name, original.name);
      assert.equal(copy.kind, original.kind);
      assert.deepEqual(copy.status, original.status);
      assert.deepEqual(copy.attributes, original.attributes);
      assert.deepEqual(
        copy.events.map((e) => [e.name, e.time, e.attributes]),
        original.events.map((e) => [e.name, e.time, e.attributes]),
      );
      assert.deepEqual(copy.resource.attributes, original.resource.attributes);
      assert.equal(copy.instrumentationScope.name, original.instrumentationScope.name);
      assert.equal(copy.spanContext().traceFlags, TraceFlags.SAMPLED);
    }
  });

  it('keeps nanosecond times beyond 2^53 exactly', async () => {
    const store = stores.open();
    const span = {
      ...traceAt(hex('7'), 0)[0]!,
      startTime: [1_795_538_125, 123_456_789],
      endTime: [1_795_538_126, 987_654_321],
    } as ReadableSpan;
    save(store, [span]);
    const stored = store.reads.get(hex('7'))!;
    assert.equal(stored.spans[0]!.startTimeUnixNano, '1795538125123456789');
    assert.equal(stored.spans[0]!.endTimeUnixNano, '1795538126987654321');
    assert.deepEqual(toReadableSpans(stored.spans)[0]!.startTime, [1_795_538_125, 123_456_789]);
  });

  it('merges spans that arrive after their trace was saved, by span id, without duplicates', async () => {
    const store = stores.open();
    const spans = realChatTrace();
    const late = spans.find((span) => span.name === 'calculator')!;
    const write = (part: ReadableSpan[]) => store.writes.write([{ ...encodeTrace([...part]), origin: 'test' }]);
    const parts = [write(spans.filter((span) => span !== late)), write([late]), write(spans)];
    assert.deepEqual(
      parts.map(({ written, added }) => [written, added]),
      [
        [1, 1],
        [1, 0],
        [1, 0],
      ],
      'written three times, one trace new to the store',
    );
    const stored = store.reads.get(`tr-${late.spanContext().traceId}`)!;
    assert.deepEqual(stored.spans.map((s) => s.name).sort(), ['agent', 'calculator', 'llm']);
    assert.equal(store.reads.list().length, 1, 'still one trace');
  });

  it('leaves a delivered trace delivered when a copy of it comes again, and makes it pending when a new span does', () => {
    const store = stores.open();
    const spans = realChatTrace();
    const late = spans.find((span) => span.name === 'calculator')!;
    const early = spans.filter((span) => span !== late);
    const id = save(store, early, 'dest');
    store.outbox.markDelivered(store.outbox.claim('dest', 'a', { maxItems: 10, maxBytes: 1e9, leaseMs: 60_000 }), { status: 200 });
    save(store, early, 'dest');
    assert.equal(store.reads.deliveryOf(id.slice(3))?.state, 'delivered', 'the same spans again: nothing new to send');
    save(store, [late], 'dest');
    assert.equal(store.reads.deliveryOf(id.slice(3))?.state, 'pending');
  });

  it('loses no span when parts of one trace are written one after another', async () => {
    const store = stores.open();
    const traceId = hex('5');
    const spans = Array.from({ length: 8 }, (_, i) =>
      readableSpan({
        traceId,
        spanId: `${i + 1}`.padStart(16, '0'),
        parentSpanId: i === 0 ? undefined : '1'.padStart(16, '0'),
        name: `s${i}`,
        startMs: 1_795_538_125_000 + i,
      }),
    );
    for (const span of spans) save(store, [span]);
    assert.equal(store.reads.get(traceId)!.spans.length, 8);
  });

  it('keeps a trace local without a destination and pending with one, and lists by delivery state', () => {
    const store = stores.open();
    save(store, traceAt(hex('1'), 1_795_538_125_000));
    save(store, traceAt(hex('2'), 1_795_538_126_000), 'dest');
    assert.deepEqual(store.reads.counts(), { local: 1, pending: 1, delivered: 0, dead: 0 });
    assert.deepEqual(
      store.reads.list({ state: 'pending' }).map((s) => s.traceId),
      [`tr-${hex('2')}`],
    );
    assert.equal(store.reads.list({ state: 'local' })[0]?.delivery.origin, 'test');
  });
});

describe('TraceStore.writes: the size cap and pruning', () => {
  const lease = { maxItems: 100, maxBytes: 1e9, leaseMs: 60_000 };

  it('at its size cap gives up the oldest delivered traces first, then refuses new ones and counts them', () => {
    const probe = stores.open();
    save(probe, traceAt(hex('9'), 1_795_538_125_000));
    const size = probe.writes.bytes();
    const store = stores.open({ maxBytes: size * 2 });
    save(store, traceAt(hex('1'), 1_795_538_125_000), 'dest');
    store.outbox.markDelivered(store.outbox.claim('dest', 'a', lease), { status: 200 });
    save(store, traceAt(hex('2'), 1_795_538_126_000), 'dest');
    const third = store.writes.write([{ ...encodeTrace(traceAt(hex('3'), 1_795_538_127_000)), origin: 'test', destination: 'dest' }]);
    assert.equal(third.evicted, 1, 'the delivered trace gave way');
    assert.equal(third.written, 1);
    assert.ok(third.nearCap);
    const fourth = store.writes.write([{ ...encodeTrace(traceAt(hex('4'), 1_795_538_128_000)), origin: 'test', destination: 'dest' }]);
    assert.deepEqual([fourth.written, fourth.refused], [0, 1], 'undelivered traces are never evicted');
    assert.deepEqual(store.reads.counts(), { local: 0, pending: 2, delivered: 0, dead: 0 });
  });

  it('counts the bytes it holds as traces are written, merged, evicted and pruned', () => {
    const store = stores.open();
    const held = () => store.reads.list().reduce((sum, trace) => sum + store.reads.get(trace.traceId)!.spans.length, 0);
    const spans = realChatTrace();
    const [first, ...rest] = spans;
    save(store, [first!], 'dest');
    save(store, traceAt(hex('1'), 1_795_538_125_000), 'dest');
    const sizes = () => {
      const db = new DatabaseSync(store.path);
      const sum = Number(db.prepare('SELECT coalesce(sum(length(otlp)), 0) AS n FROM trace_bodies').get()!.n);
      db.close();
      return sum;
    };
    assert.equal(store.writes.bytes(), sizes());
    save(store, rest, 'dest');
    assert.equal(held(), spans.length + 1, 'merged');
    assert.equal(store.writes.bytes(), sizes());
    store.writes.prune(new Date(1_795_538_125_000), { undelivered: true });
    assert.equal(store.writes.bytes(), sizes());
  });

  it('deletes delivered traces that started before the cutoff, and keeps undelivered ones unless asked', async () => {
    const store = stores.open();
    const base = Date.parse('2026-03-01T10:00:00Z');
    save(store, traceAt(hex('1'), base), 'dest');
    save(store, traceAt(hex('2'), base + 60_000));
    save(store, traceAt(hex('3'), base + 120_000), 'dest');
    store.outbox.markDelivered(store.outbox.claim('dest', 'me', { maxItems: 10, maxBytes: 1e9, leaseMs: 1000 }), { status: 200 });
    assert.deepEqual(store.writes.prune(new Date(base + 60_000), { dryRun: true }), { deleted: 1, keptUndelivered: 1 });
    assert.equal(store.reads.list().length, 3, 'a dry run deletes nothing');
    assert.deepEqual(store.writes.prune(new Date(base + 60_000)), { deleted: 1, keptUndelivered: 1 });
    assert.deepEqual(
      store.reads
        .list()
        .map((s) => s.traceId)
        .sort(),
      [`tr-${hex('2')}`, `tr-${hex('3')}`],
    );
    assert.deepEqual(store.writes.prune(new Date(base + 120_000), { undelivered: true }), { deleted: 2, keptUndelivered: 0 });
    assert.deepEqual(store.reads.list(), []);
  });
});

describe('TraceStore.writes: holding traces that arrive in parts (the relay)', () => {
  const hold = { quietMs: 2_000, maxWaitMs: 60_000 };
  const limits = { maxItems: 10, maxBytes: 1e9, leaseMs: 60_000 };
  const id = hex('7');
  const rootSpan = () => readableSpan({ traceId: id, spanId: 'a'.repeat(16), name: 'agent' });
  const childSpan = (spanId: string) =>
    readableSpan({ traceId: id, spanId, parentSpanId: 'a'.repeat(16), name: `step-${spanId.slice(0, 2)}` });
  function clockedStore() {
    let now = 1_795_538_125_000;
    const store = stores.open({ now: () => now });
    const write = (spans: ReadableSpan[]) => store.writes.write([{ ...encodeTrace(spans), origin: 'relay', destination: 'dest', hold }]);
    return {
      store,
      write,
      advance: (ms: number) => (now += ms),
      claim: () => store.outbox.claim('dest', 'me', limits).map((trace) => decodeTrace(trace.otlp).length),
    };
  }

  it('delivers nothing before the root arrives, then the whole trace once a quiet period passed', () => {
    const { write, advance, claim } = clockedStore();
    write([childSpan('b'.repeat(16))]);
    advance(10_000);
    assert.deepEqual(claim(), [], 'no root yet: held');
    write([childSpan('c'.repeat(16)), rootSpan()]);
    advance(1_999);
    assert.deepEqual(claim(), [], 'root in, but spans came less than the quiet period ago');
    advance(1);
    assert.deepEqual(claim(), [3], 'root in and quiet: the three spans go as one trace');
  });

  it('a trace whose root never arrives goes out after the longest wait from its first spans', () => {
    const { write, advance, claim } = clockedStore();
    write([childSpan('b'.repeat(16))]);
    advance(30_000);
    write([childSpan('c'.repeat(16))]);
    advance(29_999);
    assert.deepEqual(claim(), []);
    advance(1);
    assert.deepEqual(claim(), [2]);
  });

  it('a relay shutting down releases the traces whose root is in, and keeps holding those without one', () => {
    const { store, write, claim } = clockedStore();
    write([childSpan('b'.repeat(16)), rootSpan()]);
    store.writes.write([
      {
        ...encodeTrace([readableSpan({ traceId: hex('9'), spanId: 'e'.repeat(16), parentSpanId: 'f'.repeat(16), name: 'orphan' })]),
        origin: 'relay',
        destination: 'dest',
        hold,
      },
    ]);
    assert.deepEqual(claim(), []);
    assert.equal(store.writes.releaseHolds(), 1);
    assert.deepEqual(claim(), [2]);
  });

  it('spans that keep coming after the root cannot hold a trace back past the longest wait', () => {
    const { write, advance, claim } = clockedStore();
    write([rootSpan()]);
    for (let i = 0; i < 40; i++) {
      advance(1_500);
      write([childSpan(`${String(i).padStart(2, '0')}${'d'.repeat(14)}`)]);
    }
    assert.deepEqual(claim(), [41], 'still sending after 60 s: delivered as it stands; later spans merge in');
  });
});

describe('toReadableSpans', () => {
  it('rebuilds spans the OTLP serializer and the status logic accept as the SDK made them', async () => {
    const store = stores.open();
    const spans = realChatTrace({ error: true });
    const traceId = save(store, spans);
    const rebuilt = toReadableSpans(store.reads.get(traceId)!.spans);
    const root = rebuilt.find((span) => span.name === 'agent')!;
    assert.equal(root.status.code, SpanStatusCode.ERROR);
    assert.equal(root.status.message, 'boom');
    assert.equal(root.parentSpanContext, undefined);
    assert.equal(new Set(rebuilt.map((span) => span.resource)).size, 1, 'one resource object for spans that share it');
    const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
    assert.ok((ProtobufTraceSerializer.serializeRequest(rebuilt)?.length ?? 0) > 0);
  });
});
