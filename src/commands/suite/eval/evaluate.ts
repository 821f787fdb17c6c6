import type { Judge } from './judge/llm-judge.ts';
import type { Expectations, QuestionEvaluation } from './evaluation-types.ts';
import type { Score } from '../../../destination/evaluation-items.ts';
import { scoreAnswered } from './scorers/answered.ts';
import { scoreCites } from './scorers/cites.ts';
import { scoreLatency } from './scorers/latency.ts';
import { scoreMentions } from './scorers/mentions.ts';
import type { ScoredAnswer, Scorer } from './scorers/scorer.ts';
import { scoreTokens } from './scorers/tokens.ts';
import { scoreTools } from './scorers/tools.ts';

/** In the order scores are shown and logged. */
const CODE_SCORERS: Scorer[] = [scoreAnswered, scoreMentions, scoreCites, scoreTools, scoreLatency, scoreTokens];

/** One asked question as the suite recorded it. */
export interface EvaluatedAnswer extends ScoredAnswer {
  index: number;
  id: string | null;
  question: string;
  traceId: string | null;
}

export interface EvaluationTotals {
  /** Passed over total; 0 when nothing was asked. */
  passRate: number;
  passed: number;
  total: number;
  /** Each scorer's mean value (a pass counts 1) over the answers it scored. */
  scorerMeans: Record<string, number>;
}

/**
 * Every scorer that applies to this answer, and the judge's when there is one: a question passes
 * when all its scores pass. An answer that did not come is scored only as not answered.
 */
export async function evaluateAnswer(answer: EvaluatedAnswer, expect: Expectations = {}, judge?: Judge): Promise<QuestionEvaluation> {
  const scores: Score[] = CODE_SCORERS.flatMap((scorer) => scorer(answer, expect) ?? []);
  if (judge && answer.status === 'ok' && answer.answer !== null) {
    scores.push(
      ...(await judge.judge({
        question: answer.question,
        answer: answer.answer,
        expect,
        traceId: answer.traceId,
        ...(answer.endpoint === 'rag' && answer.sources && { sources: answer.sources }),
      })),
    );
  }
  return { index: answer.index, id: answer.id, traceId: answer.traceId, passed: scores.every((s) => s.passed), scores };
}

export function evaluationTotals(evaluations: readonly QuestionEvaluation[]): EvaluationTotals {
  const passed = evaluations.filter((e) => e.passed).length;
  const values = new Map<string, number[]>();
  for (const score of evaluations.flatMap((e) => e.scores)) {
    const list = values.get(score.name) ?? [];
    list.push(typeof score.value === 'number' ? score.value : score.value ? 1 : 0);
    values.set(score.name, list);
  }
  const scorerMeans = Object.fromEntries([...values].map(([name, list]) => [name, list.reduce((a, b) => a + b, 0) / list.length]));
  return { passRate: evaluations.length === 0 ? 0 : passed / evaluations.length, passed, total: evaluations.length, scorerMeans };
}

/** Whether the run clears the bar; a rate written as a percentage is compared without float noise. */
export function meetsBar(totals: EvaluationTotals, minPassRate: number): boolean {
  return totals.passRate >= minPassRate - 1e-9;
}
