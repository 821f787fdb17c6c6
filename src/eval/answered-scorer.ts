import type { SuiteResult } from '../suite/ask-questions.ts';
import type { QuestionEvaluation } from './evaluation-types.ts';
import type { EvaluationTotals } from './suite-metrics.ts';

/**
 * The `answered` scorer: did the question get an answer at all (what `suite` counted as passed
 * before expectations). The evaluate step of issue 12 (expectations, the judge) adds its scorers
 * beside this one and replaces this function in run-suite.ts.
 */
export function evaluateAnswered(results: readonly SuiteResult[]): { evaluations: QuestionEvaluation[]; totals: EvaluationTotals } {
  const evaluations = results.map((result): QuestionEvaluation => {
    const passed = result.status === 'ok';
    return {
      index: result.index,
      id: result.id,
      traceId: result.traceId,
      passed,
      scores: [
        {
          name: 'answered',
          value: passed,
          passed,
          rationale: passed ? `answered (HTTP ${result.httpStatus})` : `no answer: ${result.error ?? 'failed'}`,
          source: { type: 'CODE', id: 'otel-mlflow/answered' },
        },
      ],
    };
  });
  const passed = evaluations.filter((e) => e.passed).length;
  const total = evaluations.length;
  return {
    evaluations,
    totals: { passRate: total === 0 ? 0 : passed / total, passed, total, scorerMeans: { answered: total === 0 ? 0 : passed / total } },
  };
}
