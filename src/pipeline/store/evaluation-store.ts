import { randomUUID } from 'node:crypto';
import type {
  EvaluationState,
  Score,
  StoredScore,
  SuiteRunEndStatus,
  SuiteRunRecord,
  SuiteRunStep,
} from '../../destination/evaluation-items.ts';
import type { ClaimLimits, OutboxQueue } from '../deliver/deliverer.ts';
import { openStoreDatabase, type StoreDatabase } from './open-store-database.ts';

export type NewSuiteRun = Omit<SuiteRunRecord, 'id' | 'doneSteps' | 'state' | 'lastAnswer' | 'attempts'> & { doneSteps?: SuiteRunStep[] };

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
  end_status: SuiteRunEndStatus;
  done_steps: string;
  state: EvaluationState;
  last_answer: string | null;
  attempts: number;
}

interface ScoreRow {
  id: number;
  trace_id: string;
  suite_run: string | null;
  run_id: string | null;
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
  attempts: number;
}

const SCORE_COLUMNS = 'a.*, r.run_id AS run_id';
const SCORES = `assessments a LEFT JOIN suite_runs r ON r.id = a.suite_run`;
/**
 * A row waits while a trace it belongs to is still on its way from this store: MLflow takes a score or
 * a link only for a trace it has. Traces this store never held (made by a server elsewhere) do not hold it.
 */
const TRACE_STILL_HERE = `SELECT 1 FROM traces t WHERE t.trace_id = substr(a.trace_id, 4) AND t.state IN ('pending', 'local')`;
const RUN_TRACE_STILL_HERE = `SELECT 1 FROM json_each(r.trace_ids) j JOIN traces t ON t.trace_id = substr(j.value, 4) WHERE t.state IN ('pending', 'local')`;

/** Suite runs and scores on traces, in `traces.db` beside the traces, through a connection of its own. */
export class EvaluationStore {
  readonly dir: string;
  readonly #db: StoreDatabase;
  readonly #now: () => number;
  /** The outbox's queue of suite runs, one per request: each is created, linked, logged and ended in MLflow. */
  readonly suiteRuns: OutboxQueue<SuiteRunRecord>;
  /** The outbox's queue of scores, one per request: each becomes feedback on its trace. */
  readonly scores: OutboxQueue<StoredScore>;

  private constructor(dir: string, db: StoreDatabase, now: () => number) {
    this.dir = dir;
    this.#db = db;
    this.#now = now;
    this.suiteRuns = this.#queue<SuiteRunRecord>({
      name: 'suite runs',
      table: 'suite_runs',
      claim: `SELECT * FROM suite_runs r WHERE state = 'pending' AND destination = ? AND lease_until_ms < ?
                AND NOT EXISTS (${RUN_TRACE_STILL_HERE}) ORDER BY started_at LIMIT ?`,
      toItem: (row) => toSuiteRun(row as unknown as SuiteRunRow),
      label: (run) => `suite run '${run.name}'`,
    });
    this.scores = this.#queue<StoredScore>({
      name: 'scores',
      table: 'assessments',
      claim: `SELECT ${SCORE_COLUMNS} FROM ${SCORES} WHERE a.state = 'pending' AND a.destination = ? AND a.lease_until_ms < ?
                AND NOT EXISTS (${TRACE_STILL_HERE}) ORDER BY a.id LIMIT ?`,
      toItem: (row) => toScore(row as unknown as ScoreRow),
      label: (score) => `score '${score.name}' on ${score.traceId}`,
    });
  }

  static open(dir: string, options: { now?: () => number } = {}): EvaluationStore {
    return new EvaluationStore(dir, openStoreDatabase(dir), options.now ?? Date.now);
  }

  close(): void {
    this.#db.close();
  }

  /** A suite run and its scores, in one transaction: both are kept, or neither. */
  addSuiteRun(run: NewSuiteRun, scores: readonly { traceId: string; score: Score }[]): SuiteRunRecord {
    const id = randomUUID();
    this.#db.transaction(() => {
      this.#db
        .statement(
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
      const insert = this.#db.statement(
        `INSERT INTO assessments (trace_id, suite_run, destination, name, value, passed, rationale, source_type, source_id, created_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
      );
      for (const { traceId, score } of scores) {
        insert.run(
          traceId,
          id,
          run.destination,
          score.name,
          JSON.stringify(score.value),
          score.passed ? 1 : 0,
          score.rationale,
          score.source.type,
          score.source.id,
          run.endedAt,
        );
      }
    });
    return this.suiteRun(id)!;
  }

  suiteRun(id: string): SuiteRunRecord | undefined {
    const row = this.#db.statement('SELECT * FROM suite_runs WHERE id = ?').get(id) as SuiteRunRow | undefined;
    return row && toSuiteRun(row);
  }

  /** Every score of a trace (by MLflow id `tr-…`), in the order given. */
  scoresOf(traceId: string): StoredScore[] {
    return (
      this.#db.statement(`SELECT ${SCORE_COLUMNS} FROM ${SCORES} WHERE a.trace_id = ? ORDER BY a.id`).all(traceId) as unknown as ScoreRow[]
    ).map(toScore);
  }

  score(id: number): StoredScore | undefined {
    const row = this.#db.statement(`SELECT ${SCORE_COLUMNS} FROM ${SCORES} WHERE a.id = ?`).get(id) as ScoreRow | undefined;
    return row && toScore(row);
  }

  /** The suite runs and scores waiting for `destination`, oldest first. */
  pendingIn(destination: string): { kind: 'run' | 'score'; id: string | number }[] {
    const runs = this.#db
      .statement(`SELECT id FROM suite_runs WHERE state = 'pending' AND destination = ? ORDER BY started_at`)
      .all(destination);
    const scores = this.#db
      .statement(`SELECT id FROM assessments WHERE state = 'pending' AND destination = ? ORDER BY id`)
      .all(destination);
    return [
      ...runs.map((row) => ({ kind: 'run' as const, id: String(row.id) })),
      ...scores.map((row) => ({ kind: 'score' as const, id: Number(row.id) })),
    ];
  }

  /** Scores of one suite run, in the order given. */
  scoresOfRun(suiteRun: string): StoredScore[] {
    return (
      this.#db
        .statement(`SELECT ${SCORE_COLUMNS} FROM ${SCORES} WHERE a.suite_run = ? ORDER BY a.id`)
        .all(suiteRun) as unknown as ScoreRow[]
    ).map(toScore);
  }

  /** Suite runs and scores kept local-only (and refused ones, when asked): what a push carries to its experiment. */
  localCount(options: { refused?: boolean } = {}): number {
    const states = options.refused ? `state IN ('pending', 'refused')` : `state = 'pending'`;
    const count = (table: string) =>
      Number((this.#db.statement(`SELECT count(*) AS n FROM ${table} WHERE ${states} AND destination IS NULL`).get() as { n: number }).n);
    return count('suite_runs') + count('assessments');
  }

  /** The keys suite runs and scores are waiting for. */
  pendingDestinations(): string[] {
    return this.#db
      .statement(
        `SELECT destination FROM suite_runs WHERE state = 'pending' AND destination IS NOT NULL
       UNION SELECT destination FROM assessments WHERE state = 'pending' AND destination IS NOT NULL`,
      )
      .all()
      .map((row) => String(row.destination));
  }

  /** Rows kept local-only, and refused ones when asked, wait for `destination` from now on (a push). */
  requeue(destination: string, options: { refused?: boolean } = {}): void {
    const states = options.refused ? `state IN ('pending', 'refused')` : `state = 'pending'`;
    this.#db.transaction(() => {
      for (const table of ['suite_runs', 'assessments']) {
        this.#db.statement(`UPDATE ${table} SET destination = ? WHERE ${states} AND destination IS NULL`).run(destination);
        if (options.refused)
          this.#db.statement(`UPDATE ${table} SET state = 'pending' WHERE state = 'refused' AND destination = ?`).run(destination);
      }
    });
  }

  /** One step of a run's delivery done, recorded at once, so whoever delivers it next resumes after it. */
  recordStep(id: string, step: SuiteRunStep, runId?: string): void {
    const run = this.suiteRun(id);
    if (!run) return;
    const steps = [...new Set([...run.doneSteps, step])];
    this.#db
      .statement('UPDATE suite_runs SET done_steps = ?, run_id = COALESCE(?, run_id) WHERE id = ?')
      .run(steps.join(','), runId ?? null, id);
  }

  /** MLflow's id for a delivered score. */
  recordAssessment(id: number, assessmentId: string): void {
    this.#db.statement('UPDATE assessments SET assessment_id = ? WHERE id = ?').run(assessmentId, id);
  }

  #queue<Item extends { id: string | number; attempts: number }>(spec: {
    name: string;
    table: 'suite_runs' | 'assessments';
    claim: string;
    toItem: (row: Record<string, unknown>) => Item;
    label: (item: Item) => string;
  }): OutboxQueue<Item> {
    const { table } = spec;
    const settle = (
      items: readonly Item[],
      state: EvaluationState,
      outcome: { status?: number; answer?: string; note?: string },
      notBefore = 0,
    ) => {
      const now = this.#now();
      this.#db.transaction(() => {
        const update = this.#db.statement(
          `UPDATE ${table} SET state = ?, last_try_ms = ?, last_status = ?, last_answer = ?, lease_owner = NULL, lease_until_ms = ? WHERE id = ?`,
        );
        for (const item of items)
          update.run(state, now, outcome.status ?? null, outcome.answer ?? outcome.note ?? null, notBefore, item.id);
      });
    };
    return {
      name: spec.name,
      claim: (key: string, owner: string, limits: ClaimLimits) => {
        const now = this.#now();
        return this.#db.transaction(() => {
          const items = this.#db.statement(spec.claim).all(key, now, limits.maxItems).map(spec.toItem);
          // Counted as a try when it starts: a process that dies mid-request leaves steps the next try must check.
          const lease = this.#db.statement(`UPDATE ${table} SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1 WHERE id = ?`);
          for (const item of items) lease.run(owner, now + limits.leaseMs, item.id);
          return items;
        });
      },
      renew: (items, owner, leaseMs) => {
        const until = this.#now() + leaseMs;
        this.#db.transaction(() => {
          const renew = this.#db.statement(`UPDATE ${table} SET lease_until_ms = ? WHERE id = ? AND lease_owner = ?`);
          for (const item of items) renew.run(until, item.id, owner);
        });
      },
      markDelivered: (items, outcome) => settle(items, 'delivered', outcome),
      release: (items, outcome, notBefore) => settle(items, 'pending', outcome, notBefore),
      markDead: (item, outcome) => settle([item], 'refused', outcome),
      leaseOwners: () =>
        this.#db
          .statement(`SELECT DISTINCT lease_owner FROM ${table} WHERE lease_owner IS NOT NULL AND lease_until_ms >= ?`)
          .all(this.#now())
          .map((row) => String(row.lease_owner)),
      releaseLeasesOf: (owner) =>
        Number(this.#db.statement(`UPDATE ${table} SET lease_owner = NULL, lease_until_ms = 0 WHERE lease_owner = ?`).run(owner).changes),
      label: spec.label,
      attempts: (item) => item.attempts + 1,
    };
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
    attempts: row.attempts,
  };
}

function toScore(row: ScoreRow): StoredScore {
  return {
    id: row.id,
    traceId: row.trace_id,
    suiteRun: row.suite_run,
    runId: row.run_id,
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
    attempts: row.attempts,
  };
}
