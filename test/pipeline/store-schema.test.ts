import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { parseTargetKey, targetKey } from '../../src/destination/target.ts';
import { EvaluationStore } from '../../src/pipeline/store/evaluation-store.ts';
import { STORE_VERSION } from '../../src/pipeline/store/store-schema.ts';
import { TraceStore } from '../../src/pipeline/store/trace-store.ts';
import { encodeTrace } from '../../src/destination/encode-trace.ts';
import { chatTrace, memoryTracer } from '../tracing/span-fixtures.ts';

let root: string;
let dirs = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-schema-'));
});
after(() => rm(root, { recursive: true, force: true }));

function oneTrace() {
  const { tracer, finished } = memoryTracer();
  chatTrace(tracer);
  return encodeTrace(finished());
}

/** A store as an earlier version left it: keys in words, evaluation rows without lease columns, no schema version. */
function storeOfEarlierVersion(dir: string, keys: Record<string, string>): void {
  const store = TraceStore.open(dir);
  for (const key of Object.values(keys)) store.writes.write([{ ...oneTrace(), origin: 'serve', destination: key }]);
  store.close();
  const evaluations = EvaluationStore.open(dir);
  evaluations.addSuiteRun(
    {
      destination: keys.run!,
      runId: null,
      ownRun: true,
      name: 'old',
      startedAt: 1,
      endedAt: 2,
      params: {},
      metrics: {},
      tags: {},
      traceIds: [],
      results: '',
      endStatus: 'FINISHED',
    },
    [],
  );
  evaluations.close();
  const db = new DatabaseSync(join(dir, 'traces.db'));
  db.exec(`UPDATE suite_runs SET destination = '${keys.run}'`);
  for (const column of ['lease_owner', 'lease_until_ms', 'attempts', 'last_try_ms', 'last_status'])
    db.exec(`ALTER TABLE suite_runs DROP COLUMN ${column}`);
  db.exec('PRAGMA user_version = 0');
  db.close();
}

describe('the store’s schema, brought up to date on open', () => {
  it('turns the destinations earlier versions wrote in words into structured keys, so waiting traces keep where they were going', () => {
    const dir = join(root, `s${++dirs}`);
    const keys = {
      named: 'mlflow http://127.0.0.1:5000 experiment my app',
      byId: 'mlflow http://127.0.0.1:5000 experiment id 7',
      run: 'databricks https://dbc-1.cloud.databricks.com experiment /Users/a@b.c/app run 0123abcd',
      table: 'uc https://dbc-1.cloud.databricks.com main.traces.app_otel_spans',
      collector: 'otlp http://collector:4318/v1/traces',
    };
    storeOfEarlierVersion(dir, keys);
    const store = TraceStore.open(dir);
    try {
      const pending = store.reads.pendingDestinations().map((key) => parseTargetKey(key));
      assert.ok(pending.every(Boolean), 'every key reads back as a target');
      const fields = (value: object) => JSON.stringify(value);
      assert.deepEqual(
        pending.map((target) => targetKey(target!)).sort(),
        [
          { kind: 'mlflow', server: 'http://127.0.0.1:5000', experiment: { name: 'my app' } },
          { kind: 'mlflow', server: 'http://127.0.0.1:5000', experiment: { id: '7' } },
          { kind: 'databricks', server: 'https://dbc-1.cloud.databricks.com', experiment: { name: '/Users/a@b.c/app' }, run: '0123abcd' },
          { kind: 'unity-catalog', server: 'https://dbc-1.cloud.databricks.com', table: 'main.traces.app_otel_spans' },
          { kind: 'collector', endpoint: 'http://collector:4318/v1/traces' },
        ]
          .map(fields)
          .sort(),
      );
      const db = new DatabaseSync(join(dir, 'traces.db'));
      assert.equal(Number(db.prepare('PRAGMA user_version').get()!.user_version), STORE_VERSION);
      const run = db.prepare('SELECT destination, lease_until_ms, attempts FROM suite_runs').get() as {
        destination: string;
        lease_until_ms: number;
        attempts: number;
      };
      db.close();
      assert.deepEqual(JSON.parse(run.destination), {
        kind: 'databricks',
        server: 'https://dbc-1.cloud.databricks.com',
        experiment: { name: '/Users/a@b.c/app' },
        run: '0123abcd',
      });
      assert.deepEqual([run.lease_until_ms, run.attempts], [0, 0], 'the lease columns every queue shares were added');
    } finally {
      store.close();
    }
  });

  it('refuses a store a newer otel-mlflow wrote, saying to upgrade, and changes nothing in it', () => {
    const dir = join(root, `s${++dirs}`);
    TraceStore.open(dir).close();
    const db = new DatabaseSync(join(dir, 'traces.db'));
    db.exec(`PRAGMA user_version = ${STORE_VERSION + 1}`);
    db.close();
    assert.throws(() => TraceStore.open(dir), /written by a newer otel-mlflow .*upgrade otel-mlflow/);
  });

  it('re-encodes the traces a version-3 store kept as JSON, and sets a damaged one aside as dead, with the reason', async () => {
    const dir = join(root, `s${++dirs}`);
    await mkdir(dir);
    await copyFile(new URL('./golden/store-version-3.db', import.meta.url), join(dir, 'traces.db'));
    const db = new DatabaseSync(join(dir, 'traces.db'));
    const [damaged, ...intact] = db
      .prepare('SELECT trace_id FROM traces ORDER BY trace_id')
      .all()
      .map((row) => String(row.trace_id));
    db.prepare('UPDATE traces SET spans = substr(spans, 1, 40) WHERE trace_id = ?').run(damaged!);
    db.close();
    const store = TraceStore.open(dir);
    try {
      assert.equal(store.reads.deliveryOf(damaged!)?.state, 'dead');
      assert.match(store.reads.deliveryOf(damaged!)?.lastAnswer ?? '', /damaged/);
      for (const hex of intact) {
        assert.equal(store.reads.deliveryOf(hex)?.state, 'pending');
        assert.ok(store.reads.get(hex)!.spans.length > 0);
      }
      assert.equal(store.outbox.claim('to-be-set', 'me', { maxItems: 100, maxBytes: 1e9, leaseMs: 1000 }).length, intact.length);
    } finally {
      store.close();
    }
  });

  it('brings a version-4 store to the write path of version 5, its byte count and its traces kept', () => {
    const dir = join(root, `s${++dirs}`);
    const first = TraceStore.open(dir);
    first.writes.write([{ ...oneTrace(), origin: 'serve', destination: 'dest' }]);
    first.close();
    const db = new DatabaseSync(join(dir, 'traces.db'));
    db.exec(`
      CREATE TRIGGER bytes_on_insert AFTER INSERT ON traces BEGIN UPDATE store_meta SET value = value + NEW.bytes WHERE key = 'bytes'; END;
      CREATE INDEX traces_by_destination ON traces (destination, state);
      PRAGMA user_version = 4;
    `);
    db.close();
    const store = TraceStore.open(dir);
    try {
      store.writes.write([{ ...oneTrace(), origin: 'serve', destination: 'dest' }]);
      const check = new DatabaseSync(join(dir, 'traces.db'));
      const objects = check.prepare(`SELECT name FROM sqlite_schema WHERE name IN ('bytes_on_insert', 'traces_by_destination')`).all();
      const sum = Number(check.prepare('SELECT sum(bytes) AS n FROM traces').get()!.n);
      check.close();
      assert.deepEqual(objects, [], 'the per-row trigger and the second index are gone');
      assert.equal(store.writes.bytes(), sum, 'each trace counted once');
      assert.deepEqual(store.reads.counts('dest'), { local: 0, pending: 2, delivered: 0, dead: 0 });
    } finally {
      store.close();
    }
  });

  it('makes a new store with 8 KiB pages, and opens one made with 4 KiB pages as it is', async () => {
    const pageSize = (dir: string) => {
      const db = new DatabaseSync(join(dir, 'traces.db'));
      const size = Number(db.prepare('PRAGMA page_size').get()!.page_size);
      db.close();
      return size;
    };
    const fresh = join(root, `s${++dirs}`);
    TraceStore.open(fresh).close();
    assert.equal(pageSize(fresh), 8192);
    const old = join(root, `s${++dirs}`);
    await mkdir(old);
    await copyFile(new URL('./golden/store-version-3.db', import.meta.url), join(old, 'traces.db'));
    const before = pageSize(old);
    const store = TraceStore.open(old);
    store.writes.write([{ ...oneTrace(), origin: 'serve', destination: 'dest' }]);
    store.close();
    assert.equal(pageSize(old), before);
  });
});
