/**
 * What a suite run is judged by, shared by the scorers, the summary, the results file and what is
 * logged to MLflow (assessments on traces, metrics on the run). Keys are stable: `--json`,
 * `--output` and `suite --compare` read them back.
 */

/** What a good answer to one question has. Every field is optional; a question with none is only checked for an answer. */
export interface Expectations {
  /** Facts or phrases the answer must mention (case-insensitive); an entry `a | b` is met by either. */
  mentions?: string[];
  /** Sources a `/rag` answer must cite (a corpus document's id or title). */
  cites?: string[];
  /** Tools an `/agent` task must call. */
  tools?: string[];
  /** Budgets. */
  maxLatencyMs?: number;
  maxTokens?: number;
}

/** Who gave a score: MLflow's assessment source types. */
export type ScoreSourceType = 'CODE' | 'LLM_JUDGE';

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

/** One asked question, judged. */
export interface QuestionEvaluation {
  /** 1-based position in the run, as in SuiteResult. */
  index: number;
  id: string | null;
  traceId: string | null;
  /** All scores passed. */
  passed: boolean;
  scores: Score[];
}
