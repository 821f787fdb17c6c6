import { wrapWords } from '../cli/output.ts';
import { plural } from '../util/plural.ts';
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
 * #, question (cut to fit), status, latency, tokens, trace id; then each failure's reason.
 */
export function summaryTable(results: readonly SuiteResult[], width: number, style: SummaryStyle = PLAIN): string[] {
  const indexWidth = Math.max(1, String(results.length).length);
  const tokensWidth = Math.max('tokens'.length, ...results.map((r) => formatTokens(r.tokens).length));
  const latencyWidth = Math.max('latency'.length, ...results.map((r) => formatLatency(r.latencyMs).length));
  const statusWidth = 'failed'.length;
  const fullTraceWidth = Math.max('trace'.length, ...results.map((r) => (r.traceId ?? '-').length));
  const fixed = indexWidth + statusWidth + latencyWidth + tokensWidth + GAP.length * 5;
  const longestQuestion = Math.max('question'.length, ...results.map((r) => oneLine(r.question).length));
  const roomWithFullIds = width - fixed - fullTraceWidth;
  const shortTraceIds = roomWithFullIds < Math.min(longestQuestion, MIN_QUESTION_WITH_FULL_TRACE_ID) && fullTraceWidth > SHORT_TRACE_ID_CHARS;
  const traceWidth = shortTraceIds ? SHORT_TRACE_ID_CHARS : fullTraceWidth;
  const questionWidth = Math.max(MIN_QUESTION_WIDTH, Math.min(longestQuestion, width - fixed - traceWidth));

  const row = (cells: { index: string; question: string; status: string; latency: string; tokens: string; trace: string }, status = (s: string) => s) =>
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

  const lines = [style.dim(row({ index: '#', question: 'question', status: 'status', latency: 'latency', tokens: 'tokens', trace: 'trace' }))];
  for (const r of results) {
    lines.push(
      row(
        {
          index: String(r.index),
          question: oneLine(r.question),
          status: r.status,
          latency: formatLatency(r.latencyMs),
          tokens: formatTokens(r.tokens),
          trace: r.traceId ?? '-',
        },
        r.status === 'ok' ? style.green : style.red,
      ),
    );
  }
  if (shortTraceIds) lines.push(style.dim(cut('(trace ids cut short: --json and --output have them whole)', width)));
  const failures = results.filter((r) => r.status === 'failed');
  if (failures.length > 0) lines.push('');
  for (const r of failures) lines.push(...wrapWords(`#${r.index} failed: ${r.error ?? 'no answer'}`, width, FAILURE_INDENT));
  return lines;
}

/** With `repeat`, the count says how many requests the questions made: 32 is 16 questions asked twice. */
export function totalsLines(totals: SuiteTotals, style: SummaryStyle = PLAIN, repeat = 1): string[] {
  const asked = repeat > 1 ? `${totals.total} requests (${totals.total / repeat} questions × ${repeat})` : plural(totals.total, 'question');
  const counts = `${asked}: ${style.green(`${totals.passed} passed`)}, ${
    totals.failed > 0 ? style.red(`${totals.failed} failed`) : '0 failed'
  }`;
  const { p50, p95 } = totals.latencyMs;
  const latency = p50 === null || p95 === null ? 'latency: no answers' : `latency p50 ${formatLatency(p50)}, p95 ${formatLatency(p95)}`;
  return [counts, `${latency}; ${formatTokens(totals.tokens)} tokens`];
}

export function formatLatency(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
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
