import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { LocalTraceStore } from '../../src/local-store/local-trace-store.ts';
import { toReadableSpans } from '../../src/local-store/readable-spans.ts';
import { readableSpan } from '../fakes/readable-spans.ts';
import { chatTrace, memoryTracer } from '../tracing/span-fixtures.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-store-'));
});
after(() => rm(root, { recursive: true, force: true }));

let stores = 0;
function freshStore(): LocalTraceStore {
  return new LocalTraceStore(join(root, `store-${++stores}`, 'traces'));
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

describe('LocalTraceStore.save and get', () => {
  it('keeps every span with the same ids, exact nanosecond times, attributes, events, resource and scope', async () => {
    const store = freshStore();
    const spans = realChatTrace();
    const traceId = await store.save(spans);
    assert.equal(traceId, `tr-${spans[0]!.spanContext().traceId}`);

    const stored = await store.get(traceId);
    assert.ok(stored);
    const rebuilt = new Map(toReadableSpans(stored).map((span) => [span.spanContext().spanId, span]));
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
    await store.save([span]);
    const stored = (await store.get(hex('7')))!;
    assert.equal(stored.spans[0]!.startTimeUnixNano, '1795538125123456789');
    assert.equal(stored.spans[0]!.endTimeUnixNano, '1795538126987654321');
    assert.deepEqual(toReadableSpans(stored)[0]!.startTime, [1_795_538_125, 123_456_789]);
  });

  it('merges spans that arrive after their trace was saved, by span id, without duplicates', async () => {
    const store = freshStore();
    const spans = realChatTrace();
    const late = spans.find((span) => span.name === 'calculator')!;
    await store.save(spans.filter((span) => span !== late));
    await store.save([late]);
    await store.save(spans);
    const stored = (await store.get(`tr-${late.spanContext().traceId}`))!;
    assert.deepEqual(stored.spans.map((s) => s.name).sort(), ['agent', 'calculator', 'llm']);
    assert.equal((await readdir(store.dir)).filter((name) => name.endsWith('.json')).length, 1, 'still one file for the trace');
  });

  it('loses no span when several exports of one trace write at once', async () => {
    const store = freshStore();
    const traceId = hex('5');
    const spans = Array.from({ length: 8 }, (_, i) =>
      readableSpan({ traceId, spanId: `${i}`.padStart(16, '0'), parentSpanId: i === 0 ? undefined : '0'.repeat(16), name: `s${i}`, startMs: 1_795_538_125_000 + i }),
    );
    await Promise.all(spans.map((span) => store.save([span])));
    assert.equal((await store.get(traceId))!.spans.length, 8);
  });

  it('writes the directory for its owner only (0700) and each trace file 0600, with no temporary files left', async () => {
    const store = freshStore();
    await store.save(realChatTrace());
    assert.equal((await stat(store.dir)).mode & 0o777, 0o700);
    const names = await readdir(store.dir);
    assert.equal(names.length, 1, names.join(', '));
    assert.equal((await stat(join(store.dir, names[0]!))).mode & 0o777, 0o600);
  });

  it('finds a trace by tr- id, bare hex, or a unique prefix of either, in any case', async () => {
    const store = freshStore();
    await store.save(traceAt(hex('a', 'abc0'), 1_795_538_125_000));
    await store.save(traceAt(hex('b', 'abc1'), 1_795_538_126_000));
    const wanted = `tr-${hex('a', 'abc0')}`;
    for (const id of [wanted, hex('a', 'abc0'), 'tr-abc0', 'abc0', 'ABC0A', 'TR-ABC0']) {
      assert.equal((await store.get(id))?.traceId, wanted, id);
    }
    assert.equal(await store.get('abc2'), undefined);
    assert.equal(await store.get('not-an-id'), undefined);
  });

  it('refuses an ambiguous prefix with a usage error naming the candidates', async () => {
    const store = freshStore();
    await store.save(traceAt(hex('a', 'abc0'), 1_795_538_125_000));
    await store.save(traceAt(hex('b', 'abc1'), 1_795_538_126_000));
    await assert.rejects(store.get('tr-abc'), (error: unknown) => {
      assert.ok(error instanceof ExpectedError);
      assert.equal(error.exitCode, ExitCode.usage);
      assert.match(error.message, /matches 2 stored traces/);
      assert.match(error.message, /tr-abc0/);
      return true;
    });
  });

  it('answers nothing, without creating the directory, when the store was never written', async () => {
    const store = freshStore();
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.get('abc'), undefined);
    assert.equal(await store.prune(new Date()), 0);
    await assert.rejects(stat(store.dir), { code: 'ENOENT' });
  });
});

describe('LocalTraceStore.list', () => {
  it('summarises a trace as MLflow derives it: root, status, span count, duration, tokens, previews', async () => {
    const store = freshStore();
    const spans = realChatTrace();
    await store.save(spans);
    const [summary] = await store.list();
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
    await store.save(realChatTrace({ error: true }));
    const spans = realChatTrace();
    await store.save(spans.filter((span) => span.name !== 'agent'));
    const statuses = (await store.list()).map((s) => s.status).sort();
    assert.deepEqual(statuses, ['ERROR', 'IN_PROGRESS']);
    const open = (await store.list({ status: 'IN_PROGRESS' }))[0]!;
    assert.equal(open.rootName, 'llm', 'the earliest span stands in for the missing root');
  });

  it('treats a span whose parent is in another process as the root', async () => {
    const store = freshStore();
    const traceId = hex('c');
    const span = readableSpan({ traceId, spanId: 'c'.repeat(16), parentSpanId: 'd'.repeat(16), name: 'POST /chat', statusCode: 1 });
    const remote = { ...span, parentSpanContext: { ...span.parentSpanContext!, isRemote: true } } as ReadableSpan;
    await store.save([remote]);
    assert.equal((await store.list())[0]?.status, 'OK');
    const rebuilt = toReadableSpans((await store.get(traceId))!)[0]!;
    assert.equal(rebuilt.parentSpanContext?.spanId, 'd'.repeat(16));
    assert.equal(rebuilt.parentSpanContext?.isRemote, true);
  });

  it('lists newest first and filters by --since, --status and --limit', async () => {
    const store = freshStore();
    const base = Date.parse('2026-03-01T10:00:00Z');
    await store.save(traceAt(hex('1'), base, 1));
    await store.save(traceAt(hex('2'), base + 60_000, 2));
    await store.save(traceAt(hex('3'), base + 120_000, 1));
    await store.save(traceAt(hex('4'), base + 180_000, 2));
    const ids = (summaries: { traceId: string }[]) => summaries.map((s) => s.traceId.slice(3, 4));
    assert.deepEqual(ids(await store.list()), ['4', '3', '2', '1']);
    assert.deepEqual(ids(await store.list({ since: new Date(base + 60_000) })), ['4', '3', '2']);
    assert.deepEqual(ids(await store.list({ status: 'ERROR' })), ['4', '2']);
    assert.deepEqual(ids(await store.list({ limit: 2 })), ['4', '3']);
    assert.deepEqual(ids(await store.list({ status: 'OK', limit: 1, since: new Date(base) })), ['3']);
  });

  it('ignores files that are not trace files (a leftover temporary file, notes of the user)', async () => {
    const store = freshStore();
    await store.save(traceAt(hex('e'), Date.parse('2026-03-01T10:00:00Z')));
    await writeFile(join(store.dir, '.20260301T100000.000Z-xyz.json.abc.tmp'), '{"trace');
    await writeFile(join(store.dir, 'README.txt'), 'my traces');
    assert.equal((await store.list()).length, 1);
  });
});

describe('LocalTraceStore.prune', () => {
  it('deletes the traces that started before the cutoff and says how many', async () => {
    const store = freshStore();
    const base = Date.parse('2026-03-01T10:00:00Z');
    await store.save(traceAt(hex('1'), base));
    await store.save(traceAt(hex('2'), base + 60_000));
    await store.save(traceAt(hex('3'), base + 120_000));
    assert.equal(await store.prune(new Date(base + 60_000)), 2);
    assert.deepEqual((await store.list()).map((s) => s.traceId), [`tr-${hex('3')}`]);
    assert.equal(await store.prune(new Date(base + 120_000)), 1);
    assert.deepEqual(await store.list(), []);
  });
});

describe('toReadableSpans', () => {
  it('rebuilds spans the OTLP serializer and the status logic accept as the SDK made them', async () => {
    const store = freshStore();
    const spans = realChatTrace({ error: true });
    const traceId = await store.save(spans);
    const rebuilt = toReadableSpans((await store.get(traceId))!);
    const root = rebuilt.find((span) => span.name === 'agent')!;
    assert.equal(root.status.code, SpanStatusCode.ERROR);
    assert.equal(root.status.message, 'boom');
    assert.equal(root.parentSpanContext, undefined);
    assert.equal(new Set(rebuilt.map((span) => span.resource)).size, 1, 'one resource object for spans that share it');
    const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
    assert.ok((ProtobufTraceSerializer.serializeRequest(rebuilt)?.length ?? 0) > 0);
  });
});
