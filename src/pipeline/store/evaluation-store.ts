import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { Score } from '../../eval/evaluation-types.ts';
import { openStoreDatabase } from './open-store-database.ts';


/**
 * Tables of their own in the traces' database: a suite run and its scores are kept beside the
 * traces they judge, and leave with them (`traces push`) when MLflow could not take them at once.
 * `destination` is the place key (destinationKey without a run) a row waits for; NULL: kept
 * local-only, for whichever MLflow a later push names.
 */
const SCHEMA = `
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

/** pending: waits for MLflow; delivered: in MLflow; refused: MLflow will not take it as it is (kept, with why). */
export type EvaluationState = 'pending' | 'delivered' | 'refused';

/** What delivering a suite run to MLflow takes, in order; each is recorded once done, so a retry resumes. */
export type SuiteRunStep = 'create' | 'link' | 'log' | 'artifact' | 'end';

export interface SuiteRunRecord {
  /** Local id, before MLflow gives the run one. */
  id: string;
  destination: string | null;
  /** The MLflow run, once created (or the one given with --run-id). */
  runId: string | null;
  /** Created by this tool, so ended by it; a run given by id is logged into and left running. */
  ownRun: boolean;
  name: string;
  startedAt: number;
  endedAt: number;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  /** MLflow trace ids (`tr-…`) of the suite's traces. */
  traceIds: string[];
  /** The `suite-results.jsonl` artifact. */
  results: string;
  endStatus: 'FINISHED' | 'FAILED';
  doneSteps: SuiteRunStep[];
  state: EvaluationState;
  lastAnswer: string | null;
}

export interface StoredScore extends Score {
  /** Row id. */
  id: number;
  traceId: string;
  suiteRun: string | null;
  destination: string | null;
  createdAt: number;
  state: EvaluationState;
  assessmentId: string | null;
  lastAnswer: string | null;
}

export type NewSuiteRun = Omit<SuiteRunRecord, 'id' | 'doneSteps' | 'state' | 'lastAnswer'> & { doneSteps?: SuiteRunStep[] };

interface SuiteRunRow {
  id: string;
  destination: string | null;
  run_id: string | null;
  own_run: number;
  name: string;
  started_at: number;
  ended_at: number;
  params: string;
  metrics: string;
  tags: string;
  trace_ids: string;
  results: string;
  end_status: 'FINISHED' | 'FAILED';
  done_steps: string;
  state: EvaluationState;
  last_answer: string | null;
}

interface ScoreRow {
  id: number;
  trace_id: string;
  suite_run: string | null;
  destination: string | null;
  name: string;
  value: string;
  passed: number;
  rationale: string;
  source_type: Score['source']['type'];
  source_id: string;
  created_at: number;
  state: EvaluationState;
  assessment_id: string | null;
  last_answer: string | null;
}

/** Suite runs and scores on traces, in `traces.db` beside the traces, through a connection of its own. */
export class EvaluationStore {
  readonly dir: string;
  readonly #db: DatabaseSync;

  private constructor(dir: string, db: DatabaseSync) {
    this.dir = dir;
    this.#db = db;
  }

  static open(dir: string): EvaluationStore {
    const db = openStoreDatabase(dir, (fresh) => fresh.exec(SCHEMA));
    return new EvaluationStore(dir, db);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** A suite run and its scores, in one transaction: both are kept, or neither. */
  addSuiteRun(run: NewSuiteRun, scores: readonly { traceId: string; score: Score }[]): SuiteRunRecord {
    const id = randomUUID();
    this.#transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO suite_runs (id, destination, run_id, own_run, name, started_at, ended_at, params, metrics, tags, trace_ids, results, end_status, done_steps, state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
        )
        .run(
          id,
          run.destination,
          run.runId,
          run.ownRun ? 1 : 0,
          run.name,
          run.startedAt,
          run.endedAt,
          JSON.stringify(run.params),
          JSON.stringify(run.metrics),
          JSON.stringify(run.tags),
          JSON.stringify(run.traceIds),
          run.results,
          run.endStatus,
          (run.doneSteps ?? []).join(','),
        );
      const insert = this.#db.prepare(
        `INSERT INTO assessments (trace_id, suite_run, destination, name, value, passed, rationale, source_type, source_id, created_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
      );
      for (const { traceId, score } of scores) {
        insert.run(traceId, id, run.destination, score.name, JSON.stringify(score.value), score.passed ? 1 : 0, score.rationale, score.source.type, score.source.id, run.endedAt);
      }
    });
    return this.suiteRun(id)!;
  }

  suiteRun(id: string): SuiteRunRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM suite_runs WHERE id = ?').get(id) as SuiteRunRow | undefined;
    return row && toSuiteRun(row);
  }

  /** Suite runs waiting for this destination, or kept local-only; oldest first. */
  pendingSuiteRuns(destination: string): SuiteRunRecord[] {
    const rows = this.#db
      .prepare(`SELECT * FROM suite_runs WHERE state = 'pending' AND (destination = ? OR destination IS NULL) ORDER BY started_at`)
      .all(destination) as unknown as SuiteRunRow[];
    return rows.map(toSuiteRun);
  }

  /** One step of a run's delivery done; the run is claimed for `destination` from then on. */
  recordStep(id: string, step: SuiteRunStep, destination: string, runId?: string): void {
    const run = this.suiteRun(id);
    if (!run) return;
    const steps = [...new Set([...run.doneSteps, step])];
    this.#db
      .prepare('UPDATE suite_runs SET done_steps = ?, destination = ?, run_id = COALESCE(?, run_id), last_answer = NULL WHERE id = ?')
      .run(steps.join(','), destination, runId ?? null, id);
  }

  /**
   * Takes a pending suite run for delivery until `until` (epoch ms); false when it is no longer
   * pending or another process holds it: two pushes at once must not create the run twice.
   */
  claimSuiteRun(id: string, until: number, now = Date.now()): boolean {
    const result = this.#db
      .prepare(`UPDATE suite_runs SET lease_until = ? WHERE id = ? AND state = 'pending' AND COALESCE(lease_until, 0) <= ?`)
      .run(until, id, now);
    return Number(result.changes) === 1;
  }

  settleSuiteRun(id: string, state: EvaluationState, lastAnswer?: string): void {
    this.#db.prepare('UPDATE suite_runs SET state = ?, last_answer = ?, lease_until = NULL WHERE id = ?').run(state, lastAnswer ?? null, id);
  }

  /** Scores waiting for this destination, or kept local-only; oldest first. */
  pendingScores(destination: string): StoredScore[] {
    const rows = this.#db
      .prepare(`SELECT * FROM assessments WHERE state = 'pending' AND (destination = ? OR destination IS NULL) ORDER BY id`)
      .all(destination) as unknown as ScoreRow[];
    return rows.map(toScore);
  }

  /** Every score of a trace (by MLflow id `tr-…`), in the order given. */
  scoresOf(traceId: string): StoredScore[] {
    return (this.#db.prepare('SELECT * FROM assessments WHERE trace_id = ? ORDER BY id').all(traceId) as unknown as ScoreRow[]).map(toScore);
  }

  /** As claimSuiteRun, for one score: logged once, not once per process. */
  claimScore(id: number, until: number, now = Date.now()): boolean {
    const result = this.#db
      .prepare(`UPDATE assessments SET lease_until = ? WHERE id = ? AND state = 'pending' AND COALESCE(lease_until, 0) <= ?`)
      .run(until, id, now);
    return Number(result.changes) === 1;
  }

  settleScore(id: number, outcome: { state: EvaluationState; destination: string; assessmentId?: string; lastAnswer?: string }): void {
    this.#db
      .prepare('UPDATE assessments SET state = ?, destination = ?, assessment_id = COALESCE(?, assessment_id), last_answer = ?, lease_until = NULL WHERE id = ?')
      .run(outcome.state, outcome.destination, outcome.assessmentId ?? null, outcome.lastAnswer ?? null, id);
  }

  #transaction(work: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}

function toSuiteRun(row: SuiteRunRow): SuiteRunRecord {
  return {
    id: row.id,
    destination: row.destination,
    runId: row.run_id,
    ownRun: row.own_run === 1,
    name: row.name,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    params: JSON.parse(row.params) as Record<string, string>,
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    tags: JSON.parse(row.tags) as Record<string, string>,
    traceIds: JSON.parse(row.trace_ids) as string[],
    results: row.results,
    endStatus: row.end_status,
    doneSteps: row.done_steps === '' ? [] : (row.done_steps.split(',') as SuiteRunStep[]),
    state: row.state,
    lastAnswer: row.last_answer,
  };
}

function toScore(row: ScoreRow): StoredScore {
  return {
    id: row.id,
    traceId: row.trace_id,
    suiteRun: row.suite_run,
    destination: row.destination,
    name: row.name,
    value: JSON.parse(row.value) as Score['value'],
    passed: row.passed === 1,
    rationale: row.rationale,
    source: { type: row.source_type, id: row.source_id },
    createdAt: row.created_at,
    state: row.state,
    assessmentId: row.assessment_id,
    lastAnswer: row.last_answer,
  };
}
