/**
 * What a suite run is judged by, shared by the scorers, the summary, the results file and what is
 * logged to MLflow (assessments on traces, metrics on the run). Keys are stable: `--json`,
 * `--output` and `suite --compare` read them back.
 */
import type { Score } from '../../../destination/evaluation-items.ts';

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
