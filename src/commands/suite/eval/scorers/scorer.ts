import type { Endpoint } from '../../../../agent/client/endpoints.ts';
import type { Expectations } from '../evaluation-types.ts';
import type { Score } from '../../../../destination/evaluation-items.ts';

/** What the scorers read of one answer: the suite's result for it, and where it was asked. */
export interface ScoredAnswer {
  endpoint: Endpoint;
  status: 'ok' | 'failed';
  /** Null when no HTTP answer came. */
  httpStatus: number | null;
  error?: string;
  /** The whole answer text; null when none came. */
  answer: string | null;
  /** /rag only: what the answer cites. */
  sources: { id: string; title: string }[] | null;
  /** /agent only: the tools called, in order. */
  tools: string[] | null;
  latencyMs: number;
  tokens: number | null;
}

/** One deterministic check: undefined when the question expects nothing it checks, or the endpoint cannot show it. */
export type Scorer = (answer: ScoredAnswer, expect: Expectations) => Score | undefined;

export function codeScore(name: string, value: boolean | number, passed: boolean, rationale: string): Score {
  return { name, value, passed, rationale, source: { type: 'CODE', id: `otel-mlflow/${name}` } };
}

/** `"a", "b" and "c"`, for rationales. */
export function quoteList(items: readonly string[]): string {
  const quoted = items.map((item) => `"${item}"`);
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
}
