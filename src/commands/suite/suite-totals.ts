import { percentile } from './percentile.ts';
import type { SuiteResult } from './ask-questions.ts';

export interface SuiteTotals {
  total: number;
  passed: number;
  failed: number;
  /** Of the answered questions: a failure's latency (a refusal, a timeout) says nothing about answering. */
  latencyMs: { p50: number | null; p95: number | null };
  tokens: number;
}

export function suiteTotals(results: readonly SuiteResult[]): SuiteTotals {
  const answered = results.filter((r) => r.status === 'ok');
  const latencies = answered.map((r) => r.latencyMs);
  return {
    total: results.length,
    passed: answered.length,
    failed: results.length - answered.length,
    latencyMs: { p50: percentile(latencies, 50) ?? null, p95: percentile(latencies, 95) ?? null },
    tokens: answered.reduce((sum, r) => sum + (r.tokens ?? 0), 0),
  };
}
