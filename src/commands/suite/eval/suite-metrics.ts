import type { SuiteTotals } from '../suite-totals.ts';
import type { EvaluationTotals } from './evaluate.ts';

/**
 * The run's metrics, as `suite --compare` reads them back: pass_rate and each `<scorer>_mean`
 * (higher is better), latency and tokens (lower is better). A metric with no value (no question
 * answered) is left out rather than logged as 0.
 */
export function suiteMetrics(totals: SuiteTotals, evaluation: EvaluationTotals): Record<string, number> {
  const answered = totals.total - totals.failed;
  const metrics: Record<string, number> = { pass_rate: evaluation.passRate, tokens_total: totals.tokens };
  if (totals.latencyMs.p50 !== null) metrics.latency_p50_ms = totals.latencyMs.p50;
  if (totals.latencyMs.p95 !== null) metrics.latency_p95_ms = totals.latencyMs.p95;
  // Not `tokens_mean`: that is the token-budget scorer's mean.
  if (answered > 0) metrics.tokens_per_answer = totals.tokens / answered;
  for (const [scorer, mean] of Object.entries(evaluation.scorerMeans)) metrics[`${scorer}_mean`] = mean;
  return metrics;
}

/** Which way is better for a suite metric. */
export function metricDirection(metric: string): 'higher' | 'lower' {
  return metric === 'pass_rate' || metric.endsWith('_mean') ? 'higher' : 'lower';
}
