import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { toReadableSpans } from '../../src/spans/readable-spans.ts';
import { readableSpan } from '../fakes/readable-spans.ts';
import { hex, realChatTrace, save, temporaryStores, traceAt } from './store-fixtures.ts';

const stores = temporaryStores();

describe('TraceStore.reads: one trace by its id', () => {
  it('finds a trace by tr- id, bare hex, or a unique prefix of either, in any case', async () => {
    const store = stores.open();
    save(store, traceAt(hex('a', 'abc0'), 1_795_538_125_000));
    save(store, traceAt(hex('b', 'abc1'), 1_795_538_126_000));
    const wanted = `tr-${hex('a', 'abc0')}`;
    for (const id of [wanted, hex('a', 'abc0'), 'tr-abc0', 'abc0', 'ABC0A', 'TR-ABC0']) {
      assert.equal(store.reads.get(id)?.traceId, wanted, id);
    }
    assert.equal(store.reads.get('abc2'), undefined);
    assert.equal(store.reads.get('not-an-id'), undefined);
  });

  it('refuses an ambiguous prefix with a usage error naming the candidates', async () => {
    const store = stores.open();
    save(store, traceAt(hex('a', 'abc0'), 1_795_538_125_000));
    save(store, traceAt(hex('b', 'abc1'), 1_795_538_126_000));
    assert.throws(
      () => store.reads.get('tr-abc'),
      (error: unknown) => {
        assert.ok(error instanceof ExpectedError);
        assert.equal(error.exitCode, ExitCode.usage);
        assert.match(error.message, /matches more than one stored trace/);
        assert.match(error.message, /tr-abc0/);
        return true;
      },
    );
  });

  it('answers nothing when nothing was written', async () => {
    const store = stores.open();
    assert.deepEqual(store.reads.list(), []);
    assert.equal(store.reads.get('abc'), undefined);
    assert.deepEqual(store.writes.prune(new Date()), { deleted: 0, keptUndelivered: 0 });
  });
});

describe('TraceStore.reads: summaries', () => {
  it('summarises a trace as MLflow derives it: root, status, span count, duration, tokens, previews', async () => {
    const store = stores.open();
    const spans = realChatTrace();
    save(store, spans);
    const [summary] = store.reads.list();
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
    const store = stores.open();
    save(store, realChatTrace({ error: true }));
    const spans = realChatTrace();
    save(
      store,
      spans.filter((span) => span.name !== 'agent'),
    );
    const statuses = store.reads
      .list()
      .map((s) => s.status)
      .sort();
    assert.deepEqual(statuses, ['ERROR', 'IN_PROGRESS']);
    const open = store.reads.list({ status: 'IN_PROGRESS' })[0]!;
    assert.equal(open.rootName, 'llm', 'the earliest span stands in for the missing root');
  });

  it('treats a span whose parent is in another process as the root', async () => {
    const store = stores.open();
    const traceId = hex('c');
    const span = readableSpan({ traceId, spanId: 'c'.repeat(16), parentSpanId: 'd'.repeat(16), name: 'POST /chat', statusCode: 1 });
    const remote = { ...span, parentSpanContext: { ...span.parentSpanContext!, isRemote: true } } as ReadableSpan;
    save(store, [remote]);
    assert.equal(store.reads.list()[0]?.status, 'OK');
    const rebuilt = toReadableSpans(store.reads.get(traceId)!.spans)[0]!;
    assert.equal(rebuilt.parentSpanContext?.spanId, 'd'.repeat(16));
    assert.equal(rebuilt.parentSpanContext?.isRemote, true);
  });

  it('lists newest first and filters by --since, --status and --limit', async () => {
    const store = stores.open();
    const base = Date.parse('2026-03-01T10:00:00Z');
    save(store, traceAt(hex('1'), base, 1));
    save(store, traceAt(hex('2'), base + 60_000, 2));
    save(store, traceAt(hex('3'), base + 120_000, 1));
    save(store, traceAt(hex('4'), base + 180_000, 2));
    const ids = (summaries: { traceId: string }[]) => summaries.map((s) => s.traceId.slice(3, 4));
    assert.deepEqual(ids(store.reads.list()), ['4', '3', '2', '1']);
    assert.deepEqual(ids(store.reads.list({ since: new Date(base + 60_000) })), ['4', '3', '2']);
    assert.deepEqual(ids(store.reads.list({ status: 'ERROR' })), ['4', '2']);
    assert.deepEqual(ids(store.reads.list({ limit: 2 })), ['4', '3']);
    assert.deepEqual(ids(store.reads.list({ status: 'OK', limit: 1, since: new Date(base) })), ['3']);
  });
});
