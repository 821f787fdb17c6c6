import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TraceStore } from '../../src/pipeline/store/trace-store.ts';
import { encodeTrace } from '../../src/destination/encode-trace.ts';
import { decodeTrace } from '../../src/destination/encoded-trace.ts';
import { hex, realChatTrace, save, temporaryStores, traceAt } from './store-fixtures.ts';

const stores = temporaryStores();

describe('TraceStore.open', () => {
  it('writes the directory for its owner only (0700) and the database 0600', async () => {
    const store = stores.open();
    save(store, realChatTrace());
    assert.equal((await stat(store.dir)).mode & 0o777, 0o700);
    assert.equal((await stat(store.path)).mode & 0o777, 0o600);
  });

  it('imports the trace files of the previous store format, and removes each once imported', async () => {
    const dir = stores.dir();
    await mkdir(dir, { recursive: true });
    const spans = decodeTrace(encodeTrace(realChatTrace()).otlp);
    const name = `20260301T100000.000Z-${spans[0]!.traceId}.json`;
    await writeFile(join(dir, name), JSON.stringify({ traceId: `tr-${spans[0]!.traceId}`, savedAt: '2026-03-01T10:00:00Z', spans }));
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const store = stores.open({}, dir);
    const [summary] = store.reads.list();
    assert.equal(summary?.traceId, `tr-${spans[0]!.traceId}`);
    assert.equal(summary.spanCount, 3);
    assert.equal(summary.delivery.state, 'local');
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith('.json')),
      [],
    );
    assert.ok((await readdir(dir)).includes('notes.txt'), 'files that are not traces are left alone');
  });

  it('opens a store written before holds existed, and delivers its pending traces at once', async () => {
    const dir = stores.dir();
    const first = TraceStore.open(dir);
    first.writes.write([{ ...encodeTrace(traceAt(hex('8'), 1_795_538_125_000)), origin: 'serve', destination: 'dest' }]);
    first.close();
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(dir, 'traces.db'));
    // Stores of that time kept no schema version.
    db.exec('ALTER TABLE traces DROP COLUMN ready_ms; ALTER TABLE traces DROP COLUMN first_seen_ms; PRAGMA user_version = 0;');
    db.close();
    const reopened = stores.open({}, dir);
    assert.deepEqual(
      reopened.outbox.claim('dest', 'me', { maxItems: 10, maxBytes: 1e9, leaseMs: 60_000 }).map((trace) => trace.traceId),
      [`tr-${hex('8')}`],
    );
  });
});
