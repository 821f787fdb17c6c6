import { wrapWords } from '../../cli/output.ts';
import { meetsBar, type EvaluationTotals } from './eval/evaluate.ts';
import type { QuestionEvaluation } from './eval/evaluation-types.ts';
import { formatLatency } from '../../util/format-latency.ts';
import { plural } from '../../util/plural.ts';
import type { SuiteResult } from './ask-questions.ts';
import type { SuiteTotals } from './suite-totals.ts';

/** Colours for the parts that carry meaning; the identity when output is plain. */
export interface SummaryStyle {
  green(text: string): string;
  red(text: string): string;
  dim(text: string): string;
}

const PLAIN: SummaryStyle = { green: (t) => t, red: (t) => t, dim: (t) => t };
const GAP = '  ';
/** Below this the question is too cut to recognise, so the trace id gives way instead. */
const MIN_QUESTION_WITH_FULL_TRACE_ID = 30;
const MIN_QUESTION_WIDTH = 10;
/** A failure's reason goes on under its `#n failed:`, indented. */
const FAILURE_INDENT = '    ';
/** `tr-` and 12 hex digits: still a unique prefix for `otel-mlflow traces show`. */
const SHORT_TRACE_ID_CHARS = 15;

/**
 * The table a person reads after a run, every line at most `width` columns (colour codes aside):
 * #, question (cut to fit), verdict, latency, tokens, trace id; then why each failed question failed:
 * no answer, or the first expectation it missed.
 */
export function summaryTable(
  results: readonly SuiteResult[],
  evaluations: readonly QuestionEvaluation[],
  width: number,
  style: SummaryStyle = PLAIN,
): string[] {
  const verdicts = new Map(evaluations.map((e) => [e.index, e]));
  // Without a verdict (never, after a run) a question passes when it was answered.
  const passed = (r: SuiteResult) => verdicts.get(r.index)?.passed ?? r.status === 'ok';
  const indexWidth = Math.max(1, String(results.length).length);
  const tokensWidth = Math.max('tokens'.length, ...results.map((r) => formatTokens(r.tokens).length));
  const latencyWidth = Math.max('latency'.length, ...results.map((r) => formatLatency(r.latencyMs).length));
  const statusWidth = 'verdict'.length;
  const fullTraceWidth = Math.max('trace'.length, ...results.map((r) => (r.traceId ?? '-').length));
  const fixed = indexWidth + statusWidth + latencyWidth + tokensWidth + GAP.length * 5;
  const longestQuestion = Math.max('question'.length, ...results.map((r) => oneLine(r.question).length));
  const roomWithFullIds = width - fixed - fullTraceWidth;
  const shortTraceIds =
    roomWithFullIds < Math.min(longestQuestion, MIN_QUESTION_WITH_FULL_TRACE_ID) && fullTraceWidth > SHORT_TRACE_ID_CHARS;
  const traceWidth = shortTraceIds ? SHORT_TRACE_ID_CHARS : fullTraceWidth;
  const questionWidth = Math.max(MIN_QUESTION_WIDTH, Math.min(longestQuestion, width - fixed - traceWidth));

  const row = (
    cells: { index: string; question: string; status: string; latency: string; tokens: string; trace: string },
    status = (s: string) => s,
  ) =>
    [
      cells.index.padStart(indexWidth),
      cut(cells.question, questionWidth).padEnd(questionWidth),
      status(cells.status.padEnd(statusWidth)),
      cells.latency.padStart(latencyWidth),
      cells.tokens.padStart(tokensWidth),
      cells.trace.slice(0, traceWidth),
    ]
      .join(GAP)
      .trimEnd();

  const lines = [
    style.dim(row({ index: '#', question: 'question', status: 'verdict', latency: 'latency', tokens: 'tokens', trace: 'trace' })),
  ];
  for (const r of results) {
    lines.push(
      row(
        {
          index: String(r.index),
          question: oneLine(r.question),
          status: passed(r) ? 'passed' : 'failed',
          latency: formatLatency(r.latencyMs),
          tokens: formatTokens(r.tokens),
          trace: r.traceId ?? '-',
        },
        passed(r) ? style.green : style.red,
      ),
    );
  }
  if (shortTraceIds) lines.push(style.dim(cut('(trace ids cut short: --json and --output have them whole)', width)));
  const failures = results.filter((r) => !passed(r));
  if (failures.length > 0) lines.push('');
  for (const r of failures) lines.push(...wrapWords(failureReason(r, verdicts.get(r.index)), width, FAILURE_INDENT));
  return lines;
}

/** No answer says why; an answer names the first expectation it missed, and which others it missed. */
function failureReason(result: SuiteResult, evaluation: QuestionEvaluation | undefined): string {
  if (result.status === 'failed') return `#${result.index} failed: ${result.error ?? 'no answer'}`;
  const missed = evaluation?.scores.filter((s) => !s.passed) ?? [];
  const [first] = missed;
  if (!first) return `#${result.index} failed`;
  const more =
    missed.length > 1
      ? `; also failed: ${missed
          .slice(1)
          .map((s) => s.name)
          .join(', ')}`
      : '';
  return `#${result.index} failed ${first.name}: ${first.rationale}${more}`;
}

export interface TotalsOptions {
  style?: SummaryStyle;
  /** With `repeat`, the count says how many requests the questions made: 32 is 16 questions asked twice. */
  repeat?: number;
  width?: number;
}

/** Verdicts, the pass rate against the bar, each scorer's mean, then latency and tokens of the answers. */
export function totalsLines(totals: SuiteTotals, evaluation: EvaluationTotals, minPassRate: number, options: TotalsOptions = {}): string[] {
  const { style = PLAIN, repeat = 1, width = Number.POSITIVE_INFINITY } = options;
  const failed = evaluation.total - evaluation.passed;
  const asked = repeat > 1 ? `${totals.total} requests (${totals.total / repeat} questions × ${repeat})` : plural(totals.total, 'question');
  const unanswered = totals.failed > 0 ? ` (${totals.failed} not answered)` : '';
  const counts = `${asked}: ${style.green(`${evaluation.passed} passed`)}, ${failed > 0 ? style.red(`${failed} failed`) : '0 failed'}${unanswered}`;
  const meets = meetsBar(evaluation, minPassRate);
  const rate = `pass rate ${percent(evaluation.passRate)}, ${meets ? 'meets' : 'below'} the bar of ${percent(minPassRate)}`;
  const means = Object.entries(evaluation.scorerMeans).map(([name, mean]) => `${name} ${mean.toFixed(2)}`);
  const { p50, p95 } = totals.latencyMs;
  const latency = p50 === null || p95 === null ? 'latency: no answers' : `latency p50 ${formatLatency(p50)}, p95 ${formatLatency(p95)}`;
  return [
    counts,
    meets ? style.green(rate) : style.red(rate),
    ...(means.length > 0 ? wrapWords(`mean scores: ${means.join(', ')}`, width, FAILURE_INDENT) : []),
    `${latency}; ${formatTokens(totals.tokens)} tokens`,
  ];
}

/** 0.9375 as 93.8%, 1 as 100%. */
function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(1))}%`;
}

function formatTokens(tokens: number | null): string {
  return tokens === null ? '-' : tokens.toLocaleString('en-US');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ');
}

/** At most `width` characters, an ellipsis marking a cut. */
function cut(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
