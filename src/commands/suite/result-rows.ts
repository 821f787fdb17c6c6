import type { QuestionEvaluation } from './eval/evaluation-types.ts';
import type { EvaluationTotals } from './eval/evaluate.ts';
import type { SuiteResult } from './ask-questions.ts';

/** One question as `--json` and `--output` write it: the result's keys, then its verdict. */
export function resultRow(result: SuiteResult, evaluation: QuestionEvaluation | undefined) {
  return { ...result, evaluation: evaluation ? { passed: evaluation.passed, scores: evaluation.scores } : null };
}

/** The run's verdict as `--json` (key `evaluation`) and the last line of `--output` write it. */
export function evaluationSummary(totals: EvaluationTotals, minPassRate: number) {
  return {
    passRate: totals.passRate,
    minPassRate,
    passed: totals.passed,
    total: totals.total,
    scorerMeans: totals.scorerMeans,
  };
}
