import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { toReadableSpans } from '../../src/spans/readable-spans.ts';
import { toLocalSpan } from '../../src/spans/span-codec.ts';
import { TraceStore } from '../../src/pipeline/store/trace-store.ts';
import { readableSpan } from '../fakes/readable-spans.ts';
import { chatTrace, memoryTracer } from '../tracing/span-fixtures.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-store-'));
});
after(() => rm(root, { recursive: true, force: true }));

let stores = 0;
const opened: TraceStore[] = [];
after(() => {
  for (const store of opened) store.close();
});
function freshDir(): string {
  return join(root, `store-${++stores}`, 'traces');
}
function freshStore(options: { maxBytes?: number } = {}): TraceStore & { save(spans: ReadableSpan[], destination?: string): string } {
  const store = TraceStore.open(freshDir(), options);
  opened.push(store);
  return Object.assign(store, {
    save(spans: ReadableSpan[], destination?: string): string {
      store.write([{ spans: spans.map(toLocalSpan), origin: 'test', ...(destination && { destination }) }]);
      return `tr-${spans[0]!.spanContext().traceId}`;
    },
  });
}

/** One real chat trace from the SDK: ids, nanosecond times, attributes, an event, a resource. */
function realChatTrace(options: { error?: boolean } = {}): ReadableSpan[] {
  const { tracer, finished } = memoryTracer();
  chatTrace(tracer, options);
  return finished();
}

/** A one-span trace that started at `startMs`, with the status given. */
function traceAt(hex: string, startMs: number, statusCode: 0 | 1 | 2 = 1): ReadableSpan[] {
  return [readableSpan({ traceId: hex, spanId: hex.slice(0, 16), name: `root-${hex.slice(0, 4)}`, startMs, statusCode })];
}

const hex = (digit: string, prefix = '') => (prefix + digit.repeat(32)).slice(0, 32);

describe('TraceStore.save and get', () => {
  it('keeps every span with the same ids, exact nanosecond times, attributes, events, resource and scope', async () => {
    const store = freshStore();
    const spans = realChatTrace();
    const traceId = store.save(spans);
    assert.equal(traceId, `tr-${spans[0]!.spanContext().traceId}`);

    const stored = store.get(traceId);
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
    const store = freshStore();
    const span = { ...traceAt(hex('7'), 0)[0]!, startTime: [1_795_538_125, 123_456_789], endTime: [1_795_538_126, 987_654_321] } as ReadableSpan;
    store.save([span]);
    const stored = (store.get(hex('7')))!;
    assert.equal(stored.spans[0]!.startTimeUnixNano, '1795538125123456789');
    assert.equal(stored.spans[0]!.endTimeUnixNano, '1795538126987654321');
    assert.deepEqual(toReadableSpans(stored.spans)[0]!.startTime, [1_795_538_125, 123_456_789]);
  });

  it('merges spans that arrive after their trace was saved, by span id, without duplicates', async () => {
    const store = freshStore();
    const spans = realChatTrace();
    const late = spans.find((span) => span.name === 'calculator')!;
    store.save(spans.filter((span) => span !== late));
    store.save([late]);
    store.save(spans);
    const stored = (store.get(`tr-${late.spanContext().traceId}`))!;
    assert.deepEqual(stored.spans.map((s) => s.name).sort(), ['agent', 'calculator', 'llm']);
    assert.equal(store.list().length, 1, 'still one trace');
  });

  it('loses no span when parts of one trace are written one after another', async () => {
    const store = freshStore();
    const traceId = hex('5');
    const spans = Array.from({ length: 8 }, (_, i) =>
      readableSpan({ traceId, spanId: `${i}`.padStart(16, '0'), parentSpanId: i === 0 ? undefined : '0'.repeat(16), name: `s${i}`, startMs: 1_795_538_125_000 + i }),
    );
    for (const span of spans) store.save([span]);
    assert.equal((store.get(traceId))!.spans.length, 8);
  });

  it('writes the directory for its owner only (0700) and the database 0600', async () => {
    const store = freshStore();
    store.save(realChatTrace());
    assert.equal((await stat(store.dir)).mode & 0o777, 0o700);
    assert.equal((await stat(store.path)).mode & 0o777, 0o600);
  });

  it('finds a trace by tr- id, bare hex, or a unique prefix of either, in any case', async () => {
    const store = freshStore();
    store.save(traceAt(hex('a', 'abc0'), 1_795_538_125_000));
    store.save(traceAt(hex('b', 'abc1'), 1_795_538_126_000));
    const wanted = `tr-${hex('a', 'abc0')}`;
    for (const id of [wanted, hex('a', 'abc0'), 'tr-abc0', 'abc0', 'ABC0A', 'TR-ABC0']) {
      assert.equal((store.get(id))?.traceId, wanted, id);
    }
    assert.equal(store.get('abc2'), undefined);
    assert.equal(store.get('not-an-id'), undefined);
  });

  it('refuses an ambiguous prefix with a usage error naming the candidates', async () => {
    const store = freshStore();
    store.save(traceAt(hex('a', 'abc0'), 1_795_538_125_000));
    store.save(traceAt(hex('b', 'abc1'), 1_795_538_126_000));
    assert.throws(() => store.get('tr-abc'), (error: unknown) => {
      assert.ok(error instanceof ExpectedError);
      assert.equal(error.exitCode, ExitCode.usage);
      assert.match(error.message, /matches more than one stored trace/);
      assert.match(error.message, /tr-abc0/);
      return true;
    });
  });

  it('answers nothing when nothing was written', async () => {
    const store = freshStore();
    assert.deepEqual(store.list(), []);
    assert.equal(store.get('abc'), undefined);
    assert.deepEqual(store.prune(new Date()), { deleted: 0, keptUndelivered: 0 });
  });
});

describe('TraceStore.list', () => {
  it('summarises a trace as MLflow derives it: root, status, span count, duration, tokens, previews', async () => {
    const store = freshStore();
    const spans = realChatTrace();
    store.save(spans);
    const [summary] = store.list();
    const root = spans.find((span) => span.name === 'agent')!;
    assert.equal(summary?.traceId, `tr-${root.spanContext().traceId}`);
    assert.equal(summary.rootName, 'agent');
    assert.equal(summary.status, 'OK');
    assert.equal(summary.spanCount, 3);
    assert.deepEqual(summary.tokens, { input: 12, output: 5, total: 17 });
    assert.equal(summary.requestPreview, 'What is 2+2?');
    assert.equal(summary.responsePreview, 'It is 4.');
    const rootStartMs = root.startTime[0] * 1000 + Math.floor(root.startTime[1] / 1e6);
    assert.equal(summary.startTime, new Date(rootStartMs).toISOString());
    assert.ok(summary.durationMs > 0);
  });

  it('says ERROR when the root failed, and IN_PROGRESS while the root has not arrived', async () => {
    const store = freshStore();
    store.save(realChatTrace({ error: true }));
    const spans = realChatTrace();
    store.save(spans.filter((span) => span.name !== 'agent'));
    const statuses = (store.list()).map((s) => s.status).sort();
    assert.deepEqual(statuses, ['ERROR', 'IN_PROGRESS']);
    const open = (store.list({ status: 'IN_PROGRESS' }))[0]!;
    assert.equal(open.rootName, 'llm', 'the earliest span stands in for the missing root');
  });

  it('treats a span whose parent is in another process as the root', async () => {
    const store = freshStore();
    const traceId = hex('c');
    const span = readableSpan({ traceId, spanId: 'c'.repeat(16), parentSpanId: 'd'.repeat(16), name: 'POST /chat', statusCode: 1 });
    const remote = { ...span, parentSpanContext: { ...span.parentSpanContext!, isRemote: true } } as ReadableSpan;
    store.save([remote]);
    assert.equal((store.list())[0]?.status, 'OK');
    const rebuilt = toReadableSpans(store.get(traceId)!.spans)[0]!;
    assert.equal(rebuilt.parentSpanContext?.spanId, 'd'.repeat(16));
    assert.equal(rebuilt.parentSpanContext?.isRemote, true);
  });

  it('lists newest first and filters by --since, --status and --limit', async () => {
    const store = freshStore();
    const base = Date.parse('2026-03-01T10:00:00Z');
    store.save(traceAt(hex('1'), base, 1));
    store.save(traceAt(hex('2'), base + 60_000, 2));
    store.save(traceAt(hex('3'), base + 120_000, 1));
    store.save(traceAt(hex('4'), base + 180_000, 2));
    const ids = (summaries: { traceId: string }[]) => summaries.map((s) => s.traceId.slice(3, 4));
    assert.deepEqual(ids(store.list()), ['4', '3', '2', '1']);
    assert.deepEqual(ids(store.list({ since: new Date(base + 60_000) })), ['4', '3', '2']);
    assert.deepEqual(ids(store.list({ status: 'ERROR' })), ['4', '2']);
    assert.deepEqual(ids(store.list({ limit: 2 })), ['4', '3']);
    assert.deepEqual(ids(store.list({ status: 'OK', limit: 1, since: new Date(base) })), ['3']);
  });

});

describe('TraceStore.prune', () => {
  it('deletes delivered traces that started before the cutoff, and keeps undelivered ones unless asked', async () => {
    const store = freshStore();
    const base = Date.parse('2026-03-01T10:00:00Z');
    store.save(traceAt(hex('1'), base), 'dest');
    store.save(traceAt(hex('2'), base + 60_000));
    store.save(traceAt(hex('3'), base + 120_000), 'dest');
    store.markDelivered(store.claim('dest', 'me', { maxItems: 10, maxBytes: 1e9, leaseMs: 1000 }), { status: 200 });
    assert.deepEqual(store.prune(new Date(base + 60_000), { dryRun: true }), { deleted: 1, keptUndelivered: 1 });
    assert.equal(store.list().length, 3, 'a dry run deletes nothing');
    assert.deepEqual(store.prune(new Date(base + 60_000)), { deleted: 1, keptUndelivered: 1 });
    assert.deepEqual(store.list().map((s) => s.traceId).sort(), [`tr-${hex('2')}`, `tr-${hex('3')}`]);
    assert.deepEqual(store.prune(new Date(base + 120_000), { undelivered: true }), { deleted: 2, keptUndelivered: 0 });
    assert.deepEqual(store.list(), []);
  });
});

describe('TraceStore as the outbox', () => {
  const lease = { maxItems: 100, maxBytes: 1e9, leaseMs: 60_000 };

  it('keeps a trace local without a destination and pending with one, and lists by delivery state', () => {
    const store = freshStore();
    store.save(traceAt(hex('1'), 1_795_538_125_000));
    store.save(traceAt(hex('2'), 1_795_538_126_000), 'dest');
    assert.deepEqual(store.counts(), { local: 1, pending: 1, delivered: 0, dead: 0 });
    assert.deepEqual(store.list({ state: 'pending' }).map((s) => s.traceId), [`tr-${hex('2')}`]);
    assert.equal(store.list({ state: 'local' })[0]?.delivery.origin, 'test');
  });

  it('leases a pending trace to one deliverer at a time, and gives it back after a failed try with the answer', () => {
    const store = freshStore();
    store.save(traceAt(hex('1'), 1_795_538_125_000), 'dest');
    const [claimed] = store.claim('dest', 'a', lease);
    assert.ok(claimed);
    assert.deepEqual(store.claim('dest', 'b', lease), [], 'leased to a');
    assert.deepEqual(store.claim('other', 'b', lease), [], 'pending for another destination');
    store.release([claimed], { status: 503, answer: 'HTTP 503: busy' });
    const delivery = store.deliveryOf(hex('1'))!;
    assert.equal(delivery.state, 'pending');
    assert.equal(delivery.lastStatus, 503);
    assert.equal(delivery.lastAnswer, 'HTTP 503: busy');
    assert.equal(delivery.attempts, 1);
    const [again] = store.claim('dest', 'b', lease);
    assert.equal(again?.attempts, 1, 'the next try knows one was made before');
  });

  it('takes a lease back once it ran out (a deliverer that died)', () => {
    let now = 1_000_000;
    const store = TraceStore.open(freshDir(), { now: () => now });
    opened.push(store);
    store.write([{ spans: traceAt(hex('1'), 1_795_538_125_000).map(toLocalSpan), origin: 'test', destination: 'dest' }]);
    assert.equal(store.claim('dest', 'a', lease).length, 1);
    now += lease.leaseMs + 1;
    assert.equal(store.claim('dest', 'b', lease).length, 1);
  });

  it('claims within the byte limit, oldest first, but always at least one trace', () => {
    const store = freshStore();
    for (const digit of ['1', '2', '3']) store.save(traceAt(hex(digit), 1_795_538_125_000), 'dest');
    const one = store.claim('dest', 'a', { ...lease, maxBytes: 1 });
    assert.deepEqual(one.map((t) => t.hex), [hex('1')]);
    assert.deepEqual(store.claim('dest', 'a', lease).map((t) => t.hex), [hex('2'), hex('3')]);
  });

  it('keeps a trace pending when late spans changed it while it was being delivered', () => {
    const store = freshStore();
    const spans = realChatTrace();
    const late = spans.find((span) => span.name === 'calculator')!;
    store.save(spans.filter((span) => span !== late), 'dest');
    const claimed = store.claim('dest', 'a', lease);
    store.save([late], 'dest');
    store.markDelivered(claimed, { status: 200 });
    assert.equal(store.deliveryOf(late.spanContext().traceId)?.state, 'pending');
    store.markDelivered(store.claim('dest', 'a', lease), { status: 200 });
    assert.equal(store.deliveryOf(late.spanContext().traceId)?.state, 'delivered');
  });

  it('dead-letters a refused trace with the answer, and a push makes it pending again', () => {
    const store = freshStore();
    store.save(traceAt(hex('1'), 1_795_538_125_000), 'dest');
    store.markDead(store.claim('dest', 'a', lease)[0]!, { status: 400, answer: 'HTTP 400: bad span' });
    assert.equal(store.deliveryOf(hex('1'))?.state, 'dead');
    assert.deepEqual(store.claim('dest', 'a', lease), []);
    assert.deepEqual(store.requeue([hex('1')], 'dest'), { requeued: [hex('1')], leased: [], delivered: [] });
    assert.equal(store.claim('dest', 'a', lease).length, 1);
  });

  it('a push never takes a trace from a process that holds its lease: that one delivers it', () => {
    const store = freshStore();
    store.save(traceAt(hex('1'), 1_795_538_125_000), 'dest');
    store.save(traceAt(hex('2'), 1_795_538_126_000));
    const [held] = store.claim('dest', 'serve', { ...lease, maxItems: 1 });
    assert.equal(held?.hex, hex('1'));
    assert.deepEqual(store.requeue([hex('1'), hex('2')], 'other'), { requeued: [hex('2')], leased: [hex('1')], delivered: [] });
    assert.deepEqual(store.claim('dest', 'push', lease), [], 'still leased to the first');
    assert.deepEqual(store.claim('other', 'push', lease).map((trace) => trace.hex), [hex('2')]);
    assert.equal(store.leaseOwnerOf(hex('1')), 'serve');
  });

  it('a push never sends again a trace another process delivered there after the push chose it', () => {
    const store = freshStore();
    store.save(traceAt(hex('1'), 1_795_538_125_000), 'dest');
    store.save(traceAt(hex('2'), 1_795_538_126_000), 'dest');
    // The push chose both while they were pending; serve delivered the first before the push requeued them.
    const chosen = store.select({ states: ['pending'] });
    store.markDelivered(store.claim('dest', 'serve', { ...lease, maxItems: 1 }), { status: 200 });
    assert.deepEqual(store.requeue(chosen, 'dest'), { requeued: [hex('2')], leased: [], delivered: [hex('1')] });
    assert.equal(store.deliveryOf(hex('1'))?.state, 'delivered');
    assert.deepEqual(store.claim('dest', 'push', lease).map((trace) => trace.hex), [hex('2')]);
  });

  it('at its size cap gives up the oldest delivered traces first, then refuses new ones and counts them', () => {
    const probe = freshStore();
    probe.save(traceAt(hex('9'), 1_795_538_125_000));
    const size = probe.bytes();
    const store = freshStore({ maxBytes: size * 2 });
    store.save(traceAt(hex('1'), 1_795_538_125_000), 'dest');
    store.markDelivered(store.claim('dest', 'a', lease), { status: 200 });
    store.save(traceAt(hex('2'), 1_795_538_126_000), 'dest');
    const third = store.write([{ spans: traceAt(hex('3'), 1_795_538_127_000).map(toLocalSpan), origin: 'test', destination: 'dest' }]);
    assert.equal(third.evicted, 1, 'the delivered trace gave way');
    assert.equal(third.written, 1);
    assert.ok(third.nearCap);
    const fourth = store.write([{ spans: traceAt(hex('4'), 1_795_538_128_000).map(toLocalSpan), origin: 'test', destination: 'dest' }]);
    assert.deepEqual([fourth.written, fourth.refused], [0, 1], 'undelivered traces are never evicted');
    assert.deepEqual(store.counts(), { local: 0, pending: 2, delivered: 0, dead: 0 });
  });

  it('imports the trace files of the previous store format, and removes each once imported', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const spans = realChatTrace().map(toLocalSpan);
    const name = `20260301T100000.000Z-${spans[0]!.traceId}.json`;
    await writeFile(join(dir, name), JSON.stringify({ traceId: `tr-${spans[0]!.traceId}`, savedAt: '2026-03-01T10:00:00Z', spans }));
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const store = TraceStore.open(dir);
    opened.push(store);
    const [summary] = store.list();
    assert.equal(summary?.traceId, `tr-${spans[0]!.traceId}`);
    assert.equal(summary.spanCount, 3);
    assert.equal(summary.delivery.state, 'local');
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.json')), []);
    assert.ok((await readdir(dir)).includes('notes.txt'), 'files that are not traces are left alone');
  });
});

describe('TraceStore holding traces that arrive in parts (the relay)', () => {
  const hold = { quietMs: 2_000, maxWaitMs: 60_000 };
  const limits = { maxItems: 10, maxBytes: 1e9, leaseMs: 60_000 };
  const id = hex('7');
  const rootSpan = () => readableSpan({ traceId: id, spanId: 'a'.repeat(16), name: 'agent' });
  const childSpan = (spanId: string) => readableSpan({ traceId: id, spanId, parentSpanId: 'a'.repeat(16), name: `step-${spanId.slice(0, 2)}` });
  function clockedStore() {
    let now = 1_795_538_125_000;
    const store = TraceStore.open(freshDir(), { now: () => now });
    opened.push(store);
    const write = (spans: ReadableSpan[]) => store.write([{ spans: spans.map(toLocalSpan), origin: 'relay', destination: 'dest', hold }]);
    return { store, write, advance: (ms: number) => (now += ms), claim: () => store.claim('dest', 'me', limits).map((trace) => trace.spans.length) };
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
    store.write([{ spans: [readableSpan({ traceId: hex('9'), spanId: 'e'.repeat(16), parentSpanId: 'f'.repeat(16), name: 'orphan' })].map(toLocalSpan), origin: 'relay', destination: 'dest', hold }]);
    assert.deepEqual(claim(), []);
    assert.equal(store.releaseHolds(), 1);
    assert.deepEqual(claim(), [2]);
  });

  it('opens a store written before holds existed, and delivers its pending traces at once', async () => {
    const dir = freshDir();
    const first = TraceStore.open(dir);
    first.write([{ spans: traceAt(hex('8'), 1_795_538_125_000).map(toLocalSpan), origin: 'serve', destination: 'dest' }]);
    first.close();
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(dir, 'traces.db'));
    // Stores of that time kept no schema version.
    db.exec('ALTER TABLE traces DROP COLUMN ready_ms; ALTER TABLE traces DROP COLUMN first_seen_ms; PRAGMA user_version = 0;');
    db.close();
    const reopened = TraceStore.open(dir);
    opened.push(reopened);
    assert.deepEqual(reopened.claim('dest', 'me', limits).map((trace) => trace.traceId), [`tr-${hex('8')}`]);
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
    const store = freshStore();
    const spans = realChatTrace({ error: true });
    const traceId = store.save(spans);
    const rebuilt = toReadableSpans(store.get(traceId)!.spans);
    const root = rebuilt.find((span) => span.name === 'agent')!;
    assert.equal(root.status.code, SpanStatusCode.ERROR);
    assert.equal(root.status.message, 'boom');
    assert.equal(root.parentSpanContext, undefined);
    assert.equal(new Set(rebuilt.map((span) => span.resource)).size, 1, 'one resource object for spans that share it');
    const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
    assert.ok((ProtobufTraceSerializer.serializeRequest(rebuilt)?.length ?? 0) > 0);
  });
});
