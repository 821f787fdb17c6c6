import type { DatabaseSync } from 'node:sqlite';
import { keyFromLegacyText } from '../../destination/target.ts';
import type { LocalSpan } from '../../spans/local-span.ts';
import { encodeLocalTrace } from './lazy-encoder.ts';

// A rowid table, not WITHOUT ROWID: rows carry kilobytes of spans and trace ids are random, so keying
// the rows themselves by trace id scattered every group commit over the whole file (half the write rate
// measured by `npm run bench`); with rowids the rows append and only the small id index is scattered.
// As the first version made it: later steps change its indexes and triggers.
const TRACES = `
CREATE TABLE IF NOT EXISTS traces (
  trace_id TEXT PRIMARY KEY,
  start_ms INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  root_name TEXT NOT NULL,
  status TEXT NOT NULL,
  span_count INTEGER NOT NULL,
  tokens_in INTEGER,
  tokens_out INTEGER,
  tokens_total INTEGER,
  request_preview TEXT,
  response_preview TEXT,
  origin TEXT NOT NULL,
  state TEXT NOT NULL,
  destination TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_try_ms INTEGER,
  last_status INTEGER,
  last_answer TEXT,
  lease_owner TEXT,
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  ready_ms INTEGER NOT NULL DEFAULT 0,
  first_seen_ms INTEGER NOT NULL DEFAULT 0,
  saved_ms INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  spans TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ms);
CREATE INDEX IF NOT EXISTS traces_by_delivery ON traces (state, destination, saved_ms);
CREATE INDEX IF NOT EXISTS traces_by_destination ON traces (destination, state);
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO store_meta (key, value) VALUES ('bytes', 0);
CREATE TRIGGER IF NOT EXISTS bytes_on_insert AFTER INSERT ON traces
  BEGIN UPDATE store_meta SET value = value + NEW.bytes WHERE key = 'bytes'; END;
CREATE TRIGGER IF NOT EXISTS bytes_on_delete AFTER DELETE ON traces
  BEGIN UPDATE store_meta SET value = value - OLD.bytes WHERE key = 'bytes'; END;
CREATE TRIGGER IF NOT EXISTS bytes_on_update AFTER UPDATE OF bytes ON traces
  BEGIN UPDATE store_meta SET value = value - OLD.bytes + NEW.bytes WHERE key = 'bytes'; END;
`;

/**
 * A trace's encoded spans live apart from its row: leases and delivery states change the row several
 * times per trace, and a row that carried kilobytes of spans was written out whole each time. Bodies
 * are appended (an integer key that VACUUM keeps) and leave with their trace.
 */
const BODIES = `
CREATE TABLE IF NOT EXISTS trace_bodies (id INTEGER PRIMARY KEY, otlp BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS bodies_on_delete AFTER DELETE ON traces
  BEGIN DELETE FROM trace_bodies WHERE id = OLD.body_id; END;
`;

/**
 * Suite runs and scores are kept beside the traces they judge, and leave with them. `destination` is
 * the key of the experiment a row waits for; NULL: kept local-only, for whichever MLflow a later push
 * names.
 */
const EVALUATIONS = `
CREATE TABLE IF NOT EXISTS suite_runs (
  id TEXT PRIMARY KEY,
  destination TEXT,
  run_id TEXT,
  own_run INTEGER NOT NULL,
  name TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  params TEXT NOT NULL,
  metrics TEXT NOT NULL,
  tags TEXT NOT NULL,
  trace_ids TEXT NOT NULL,
  results TEXT NOT NULL,
  end_status TEXT NOT NULL,
  done_steps TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  last_answer TEXT,
  lease_until INTEGER
);
CREATE TABLE IF NOT EXISTS assessments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  trace_id TEXT NOT NULL,
  suite_run TEXT,
  destination TEXT,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  passed INTEGER NOT NULL,
  rationale TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  assessment_id TEXT,
  last_answer TEXT,
  lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS assessments_by_trace ON assessments (trace_id);
CREATE INDEX IF NOT EXISTS assessments_by_state ON assessments (state, destination);
CREATE INDEX IF NOT EXISTS suite_runs_by_state ON suite_runs (state, destination);
`;

/**
 * Each step brings a store from the version before it (`PRAGMA user_version`) to its own. Stores made
 * before versions were kept are at 0 and may already have some tables: the first steps take them as
 * they are.
 */
const MIGRATIONS: readonly ((db: DatabaseSync) => void)[] = [
  (db) => {
    db.exec(TRACES);
    // Stores from before assembly holds lack these.
    addColumns(db, 'traces', ['ready_ms INTEGER NOT NULL DEFAULT 0', 'first_seen_ms INTEGER NOT NULL DEFAULT 0']);
  },
  (db) => db.exec(EVALUATIONS),
  (db) => {
    // Destinations become structured keys: what a waiting row names is read back, never parsed from words.
    for (const table of ['traces', 'suite_runs', 'assessments']) {
      const update = db.prepare(`UPDATE ${table} SET destination = ? WHERE destination = ?`);
      for (const row of db.prepare(`SELECT DISTINCT destination FROM ${table} WHERE destination IS NOT NULL`).all()) {
        const text = String(row.destination);
        if (text.startsWith('{')) continue;
        const key = keyFromLegacyText(text);
        if (key) update.run(key, text);
      }
    }
    // One lease model for every kind of row: an owner, an end, and the last try's answer.
    for (const table of ['suite_runs', 'assessments']) {
      addColumns(db, table, [
        'lease_owner TEXT',
        'lease_until_ms INTEGER NOT NULL DEFAULT 0',
        'attempts INTEGER NOT NULL DEFAULT 0',
        'last_try_ms INTEGER',
        'last_status INTEGER',
      ]);
    }
  },
  (db) => {
    // Traces are kept as the bytes they are sent as, encoded once (see EncodedTrace), instead of JSON
    // that every delivery parsed and encoded again; the traces waiting in a store are encoded now.
    db.exec(BODIES);
    addColumns(db, 'traces', ['body_id INTEGER']);
    if (!columnsOf(db, 'traces').has('spans')) return;
    const insertBody = db.prepare('INSERT INTO trace_bodies (otlp) VALUES (?)');
    const update = db.prepare('UPDATE traces SET body_id = ?, bytes = ? WHERE trace_id = ?');
    const damaged = db.prepare(
      `UPDATE traces SET bytes = 0, state = CASE WHEN state = 'pending' THEN 'dead' ELSE state END,
       last_answer = COALESCE(last_answer, ?) WHERE trace_id = ?`,
    );
    // In chunks by rowid: a store of many traces is never read into memory whole.
    const chunk = db.prepare('SELECT rowid, trace_id, spans FROM traces WHERE rowid > ? ORDER BY rowid LIMIT 256');
    for (let rows = chunk.all(0); rows.length > 0; rows = chunk.all(Number(rows.at(-1)!.rowid))) {
      for (const row of rows) reencode(String(row.trace_id), String(row.spans));
    }
    db.exec('ALTER TABLE traces DROP COLUMN spans');

    function reencode(hex: string, text: string): void {
      const spans = jsonSpans(text);
      if (!spans) {
        // Damaged on disk (by hand, or by a disk fault): kept for a person to look at, never sent.
        damaged.run('the stored record is damaged (its spans are not readable JSON) and cannot be sent', hex);
        return;
      }
      const { otlp } = encodeLocalTrace(spans);
      update.run(Number(insertBody.run(otlp).lastInsertRowid), otlp.length, hex);
    }
  },
  (db) => {
    // Cheaper writes (issue 20). The byte count is added once per group write, not by a trigger per row.
    // One index serves every question about delivery states: claims (destination and state equal,
    // oldest first) and counts for one destination (the four states probed as equalities); a second
    // index led by destination cost every write and every change of state its upkeep.
    db.exec(`
      DROP TRIGGER IF EXISTS bytes_on_insert;
      DROP INDEX IF EXISTS traces_by_destination;
    `);
  },
];

export const STORE_VERSION = MIGRATIONS.length;

/** Brings the store's tables to STORE_VERSION, in one transaction that another process waits for. */
export function migrateStore(db: DatabaseSync): void {
  const version = () => Number(db.prepare('PRAGMA user_version').get()!.user_version);
  if (version() === STORE_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    const from = version();
    if (from > STORE_VERSION) {
      throw new Error(
        `it was written by a newer otel-mlflow (store version ${from}, this one knows ${STORE_VERSION}); upgrade otel-mlflow`,
      );
    }
    for (let step = from; step < STORE_VERSION; step++) MIGRATIONS[step]!(db);
    db.exec(`PRAGMA user_version = ${STORE_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

function columnsOf(db: DatabaseSync, table: string): Set<string> {
  return new Set(
    db
      .prepare(`PRAGMA table_info(${table})`)
      .all()
      .map((row) => String(row.name)),
  );
}

function addColumns(db: DatabaseSync, table: string, columns: readonly string[]): void {
  const present = columnsOf(db, table);
  for (const column of columns) if (!present.has(column.split(' ')[0]!)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
}

/** Spans as stores up to version 3 kept them (JSON text); undefined when the text is damaged or holds no span. */
function jsonSpans(text: string): LocalSpan[] | undefined {
  try {
    const spans = JSON.parse(text) as unknown;
    return Array.isArray(spans) && spans.length > 0 ? (spans as LocalSpan[]) : undefined;
  } catch {
    return undefined;
  }
}
