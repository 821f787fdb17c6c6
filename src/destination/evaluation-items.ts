import type { RunStatus } from '../mlflow/runs.ts';

/** The statuses a suite's MLflow run ends with: its bar met or not, or stopped by a person. */
export type SuiteRunEndStatus = Extract<RunStatus, 'FINISHED' | 'FAILED' | 'KILLED'>;

/**
 * What the outbox holds besides traces, as the senders deliver it: a suite run (an MLflow run with its
 * params, metrics and results file) and the scores on its traces (MLflow feedback assessments).
 */

/** Who gave a score: MLflow's assessment source types. */
type ScoreSourceType = 'CODE' | 'LLM_JUDGE';

/** One scorer's verdict on one answer, as MLflow logs feedback: a value, a rationale, a source. */
export interface Score {
  /** Stable scorer name, e.g. `answered`, `mentions`, `cites`, `tools`, `latency`, `tokens`, `correctness`, `groundedness`. */
  name: string;
  /** The measured value: pass/fail for yes-or-no scorers, a fraction (0–1) for partial ones. */
  value: boolean | number;
  passed: boolean;
  /** Says what was expected and what was found, e.g. `missing "OTLP" (2 of 3 phrases mentioned)`. */
  rationale: string;
  source: { type: ScoreSourceType; id: string };
}

/** pending: waits for MLflow; delivered: in MLflow; refused: MLflow will not take it as it is (kept, with why). */
export type EvaluationState = 'pending' | 'delivered' | 'refused';

/** What delivering a suite run to MLflow takes, in order; each is recorded once done, so a retry resumes. */
export type SuiteRunStep = 'create' | 'link' | 'log' | 'artifact' | 'end';

export interface SuiteRunRecord {
  /** Local id, before MLflow gives the run one. */
  id: string;
  /** The key of the experiment it waits for; null: kept local-only. */
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
  endStatus: SuiteRunEndStatus;
  doneSteps: SuiteRunStep[];
  state: EvaluationState;
  lastAnswer: string | null;
  attempts: number;
}

export interface StoredScore extends Score {
  /** Row id. */
  id: number;
  traceId: string;
  suiteRun: string | null;
  /** The MLflow run of its suite run, once there is one. */
  runId: string | null;
  destination: string | null;
  createdAt: number;
  state: EvaluationState;
  assessmentId: string | null;
  lastAnswer: string | null;
  attempts: number;
}
