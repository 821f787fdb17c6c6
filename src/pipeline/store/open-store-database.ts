import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ExitCode, ExpectedError, errorMessage } from '../../errors.ts';
import { migrateStore } from './store-schema.ts';

export const STORE_FILE = 'traces.db';
/** Prompts and answers may be private: only the owner may read the store. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/**
 * For a new store (an existing one keeps the size it was made with): a commit's CPU goes mostly to the
 * pages it writes, and traces of a few kilobytes share 8 KiB pages where each took a 4 KiB page of its
 * own; a group write of doctor-sized traces measured 27 against 39 µs of CPU per trace, and no worse
 * for traces of 12 KB or a store of 40,000.
 */
const PAGE_SIZE = 8192;
/** Another process holding the write lock commits in milliseconds; waiting longer means something is wrong. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * A connection to the store's one SQLite file in `dir` (created when needed), its tables made or
 * brought up to date. Traces and evaluations live in the same file, each through its own connection.
 */
export function openStoreDatabase(dir: string): StoreDatabase {
  const path = join(dir, STORE_FILE);
  try {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    const db = new (sqlite().DatabaseSync)(path, { timeout: BUSY_TIMEOUT_MS });
    chmodSync(path, FILE_MODE);
    // FULL: each group commit is fsynced, so a trace the store accepted survives power loss too.
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;`);
    migrateStore(db);
    return new StoreDatabase(db);
  } catch (error) {
    throw new ExpectedError(`cannot open the trace store ${path}: ${errorMessage(error)}`, {
      exitCode: ExitCode.config,
      hint: 'check that the directory is writable and on a local disk, or choose another with --store-dir / OTEL_MLFLOW_STORE_DIR',
    });
  }
}

let loaded: typeof import('node:sqlite') | undefined;

/**
 * node:sqlite, loaded without the warning Node 22 to 25 print on its first load in each thread, which
 * calls it experimental: the store is the tool's own business, and under `run` the line would land in
 * the program's stderr. Any other warning goes out as usual.
 */
function sqlite(): typeof import('node:sqlite') {
  if (loaded) return loaded;
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const message = typeof warning === 'string' ? warning : warning.message;
    if (!message.startsWith('SQLite is an experimental feature'))
      (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    loaded = process.getBuiltinModule('node:sqlite');
    return loaded;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** One connection to the store: statements prepared once, and write transactions that lock up front. */
export class StoreDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** The statement for SQL the store runs again and again, prepared once per connection. */
  statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** SQL built for one call (a filter): prepared, not kept. */
  prepare(sql: string): StatementSync {
    return this.#db.prepare(sql);
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /** IMMEDIATE: take the write lock up front, so two processes' claims cannot interleave. */
  transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
