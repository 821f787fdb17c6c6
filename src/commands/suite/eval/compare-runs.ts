import type { Tolerance } from './compare-flags.ts';
import { metricDirection } from './suite-metrics.ts';

/**
 * A p95 below this many ms more than the baseline's is noise, whatever the percentage: a run of
 * fast answers (the offline model) moves by more than 20 % from one run to the next.
 */
const LATENCY_NOISE_MS = 100;

interface MetricChange {
  metric: string;
  better: 'higher' | 'lower';
  before: number | null;
  after: number | null;
  verdict: 'better' | 'worse' | 'same' | 'new' | 'gone';
  /** Worse beyond the tolerance, for a metric that gates. */
  regression: boolean;
}

interface QuestionChange {
  /** The question's id, or its text without one. */
  question: string;
  before: 'passed' | 'failed' | 'absent';
  after: 'passed' | 'failed' | 'absent';
}

export interface Comparison {
  baseline: { runId: string; name?: string; url?: string };
  metrics: MetricChange[];
  /** Only the questions whose verdict changed (or that one run lacks). */
  questions: QuestionChange[];
  /** One line per regression, e.g. `pass_rate 1 → 0.5 (-0.5, tolerance 0)`. */
  regressions: string[];
  /** The baseline asked other questions (another digest): per-question changes may say little. */
  questionSetChanged: boolean;
}

/** One line of `suite-results.jsonl`, as far as comparing reads it. */
export interface ResultLine {
  id: string | null;
  question: string;
  passed: boolean;
}

export interface RunSide {
  metrics: Record<string, number>;
  params: Record<string, string>;
  results: readonly ResultLine[];
}

/** Per metric with its direction, and per question; regressions are what `suite` fails on. */
export function compareRuns(baseline: RunSide & Comparison['baseline'], current: RunSide, tolerance: Tolerance): Comparison {
  const names = [...new Set([...Object.keys(baseline.metrics), ...Object.keys(current.metrics)])].sort();
  const metrics = names.map((metric) =>
    compareMetric(metric, baseline.metrics[metric] ?? null, current.metrics[metric] ?? null, tolerance),
  );
  const regressions = metrics.filter((m) => m.regression).map((m) => describeRegression(m, tolerance));
  const before = verdicts(baseline.results);
  const after = verdicts(current.results);
  const questions: QuestionChange[] = [...new Set([...before.keys(), ...after.keys()])]
    .map((question) => ({ question, before: before.get(question) ?? 'absent', after: after.get(question) ?? 'absent' }) as QuestionChange)
    .filter((change) => change.before !== change.after);
  const digest = 'question_set_digest';
  return {
    baseline: { runId: baseline.runId, ...(baseline.name && { name: baseline.name }), ...(baseline.url && { url: baseline.url }) },
    metrics,
    questions,
    regressions,
    questionSetChanged: baseline.params[digest] !== undefined && baseline.params[digest] !== current.params[digest],
  };
}

function compareMetric(metric: string, before: number | null, after: number | null, tolerance: Tolerance): MetricChange {
  const better = metricDirection(metric);
  const base = { metric, better, before, after };
  if (before === null) return { ...base, verdict: 'new', regression: false };
  if (after === null) return { ...base, verdict: 'gone', regression: false };
  const delta = after - before;
  const verdict = delta === 0 ? 'same' : delta > 0 === (better === 'higher') ? 'better' : 'worse';
  return { ...base, verdict, regression: verdict === 'worse' && beyondTolerance(metric, before, after, tolerance) };
}

/** Only the pass rate, the scorer means and p95 latency gate; the rest is shown. */
function beyondTolerance(metric: string, before: number, after: number, tolerance: Tolerance): boolean {
  if (metricDirection(metric) === 'higher') return before - after > tolerance.score + 1e-9;
  if (metric === 'latency_p95_ms') return after - before > Math.max(before * tolerance.latency, LATENCY_NOISE_MS);
  return false;
}

function describeRegression(change: MetricChange, tolerance: Tolerance): string {
  const allowed =
    change.metric === 'latency_p95_ms'
      ? `+${Math.round(tolerance.latency * 100)}% allowed`
      : tolerance.score === 0
        ? 'any drop counts'
        : `a drop of ${tolerance.score} allowed`;
  return `${change.metric} ${formatNumber(change.before)} → ${formatNumber(change.after)} (${allowed})`;
}

export function formatNumber(value: number | null): string {
  if (value === null) return '–';
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}

/** A question passes across repeats only when every repeat passed. */
function verdicts(lines: readonly ResultLine[]): Map<string, 'passed' | 'failed'> {
  const map = new Map<string, 'passed' | 'failed'>();
  for (const line of lines) {
    const key = line.id ?? line.question;
    map.set(key, map.get(key) === 'failed' || !line.passed ? 'failed' : 'passed');
  }
  return map;
}

/** `suite-results.jsonl` read back; a line that is not a result is skipped. */
export function parseResultLines(text: string): ResultLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        const value = JSON.parse(line) as Partial<ResultLine>;
        return typeof value.question === 'string' && typeof value.passed === 'boolean'
          ? [{ id: value.id ?? null, question: value.question, passed: value.passed }]
          : [];
      } catch {
        return [];
      }
    });
}
