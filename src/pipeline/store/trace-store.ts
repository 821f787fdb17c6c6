import { join } from 'node:path';
import { encodeLocalTrace } from './lazy-encoder.ts';
import { importLegacyTraceFiles } from './legacy-trace-files.ts';
import { openStoreDatabase, STORE_FILE, type StoreDatabase } from './open-store-database.ts';
import { TraceOutbox } from './trace-outbox.ts';
import { TraceReads } from './trace-reads.ts';
import { TraceWrites } from './trace-writes.ts';

export interface StoreOptions {
  maxBytes?: number;
  /**
   * The most pages the database file may grow to (SQLite's max_page_count): writes beyond it fail as
   * on a full disk. Tests use it to fill a disk without one.
   */
  pageLimit?: number;
  now?: () => number;
}

/**
 * The one embedded trace store, which is also the outbox: every finished trace is written here first
 * (SQLite in WAL mode: a committed trace survives SIGKILL and power loss, readers never see half a
 * trace, and several processes may share it), then delivered from here by whichever process has a
 * destination. One connection, seen from three sides: `writes` (traces in, the size cap, holds,
 * pruning), `outbox` (leases and what each try ended in) and `reads` (lists, one trace, counts,
 * selections). The tables and their migrations are in store-schema.ts.
 */
export class TraceStore {
  readonly dir: string;
  readonly path: string;
  readonly writes: TraceWrites;
  readonly outbox: TraceOutbox;
  readonly reads: TraceReads;
  readonly #db: StoreDatabase;

  private constructor(dir: string, db: StoreDatabase, options: StoreOptions) {
    const now = options.now ?? Date.now;
    this.dir = dir;
    this.path = join(dir, STORE_FILE);
    this.#db = db;
    this.writes = new TraceWrites(db, { maxBytes: options.maxBytes, now });
    this.outbox = new TraceOutbox(db, now);
    this.reads = new TraceReads(db, this.path);
  }

  /** Opens (creating when needed) the store in `dir`, importing trace files of the previous format. */
  static open(dir: string, options: StoreOptions = {}): TraceStore {
    const db = openStoreDatabase(dir);
    if (options.pageLimit !== undefined) db.exec(`PRAGMA max_page_count = ${Math.floor(options.pageLimit)}`);
    const store = new TraceStore(dir, db, options);
    importLegacyTraceFiles(dir, (spans) => store.writes.write([{ ...encodeLocalTrace(spans), origin: 'imported', maybeSent: true }]));
    return store;
  }

  close(): void {
    this.#db.close();
  }
}
