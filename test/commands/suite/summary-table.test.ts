import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluationTotals } from '../../../src/commands/suite/eval/evaluate.ts';
import type { QuestionEvaluation } from '../../../src/commands/suite/eval/evaluation-types.ts';
import type { Score } from '../../../src/destination/evaluation-items.ts';
import type { SuiteResult } from '../../../src/commands/suite/ask-questions.ts';
import { summaryTable, totalsLines } from '../../../src/commands/suite/summary-table.ts';
import { suiteTotals } from '../../../src/commands/suite/suite-totals.ts';
import { formatLatency } from '../../../src/util/format-latency.ts';

const TRACE = 'tr-0123456789abcdef0123456789abcdef';

function result(index: number, overrides: Partial<SuiteResult> = {}): SuiteResult {
  return {
    index,
    id: null,
    question: `Question number ${index}: how does MLflow read OpenTelemetry span attributes for inputs and outputs?`,
    status: 'ok',
    httpStatus: 200,
    latencyMs: 40 * index,
    tokens: 100 + index,
    traceId: `${TRACE.slice(0, -2)}${String(index).padStart(2, '0')}`,
    traceUrl: null,
    answerPreview: 'An answer.',
    answer: 'An answer.',
    sources: null,
    tools: null,
    ...overrides,
  };
}

function score(name: string, passed: boolean, rationale = passed ? 'fine' : 'not fine'): Score {
  return { name, value: passed, passed, rationale, source: { type: 'CODE', id: `otel-mlflow/${name}` } };
}

/** Answered questions pass unless given failing scores; unanswered ones fail on `answered`. */
function verdict(r: SuiteResult, failing: Score[] = []): QuestionEvaluation {
  const scores = [score('answered', r.status === 'ok'), ...failing];
  return { index: r.index, id: r.id, traceId: r.traceId, passed: scores.every((s) => s.passed), scores };
}

const results = [
  ...Array.from({ length: 11 }, (_, i) => result(i + 1)),
  result(12, {
    status: 'failed',
    httpStatus: 502,
    error: `HTTP 502 llm_error: the openai model provider answered 500: ${'x'.repeat(100)}`,
    tokens: null,
  }),
  result(13, { status: 'failed', httpStatus: null, error: 'no answer within 180 s', tokens: null, traceId: null, latencyMs: 180_000 }),
];

const evaluations = results.map((r) => verdict(r));

describe('the suite summary', () => {
  it('fits every line in 80 columns, cutting questions and shortening trace ids', () => {
    const lines = summaryTable(results, evaluations, 80);
    for (const line of lines) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.match(lines[0]!, /^ # {2}question +verdict {2}latency {2}tokens {2}trace$/);
    assert.equal(lines[1], ' 1  Question number 1: how does MLfl…  passed     40 ms     101  tr-0123456789ab');
    assert.equal(
      lines.find((l) => l.startsWith('13')),
      '13  Question number 13: how does MLf…  failed     180 s       -  -',
    );
    assert.ok(lines.some((l) => /trace ids cut short/.test(l)));
  });

  it('shows whole trace ids when the terminal is wide enough', () => {
    const lines = summaryTable(results.slice(0, 2), evaluations, 140);
    assert.ok(lines[1]!.endsWith(results[0]!.traceId!));
    assert.ok(!lines.some((l) => /cut short/.test(l)));
    assert.ok(lines.every((l) => l.length <= 140));
  });

  it('lists each failure with its whole reason under the table, wrapped and indented', () => {
    const lines = summaryTable(results, evaluations, 80);
    const first = lines.findIndex((l) => l.startsWith('#12 failed: '));
    const next = lines.findIndex((l) => l.startsWith('#13 failed: '));
    assert.ok(first > 0 && next > first + 1, lines.join('\n'));
    const continuation = lines.slice(first + 1, next);
    assert.ok(
      continuation.every((l) => l.startsWith('    ') && l.length <= 80),
      continuation.join('\n'),
    );
    const squeeze = (text: string) => text.replace(/\s+/g, '');
    assert.equal(squeeze([lines[first], ...continuation].join('')), squeeze(`#12 failed: ${results[11]!.error}`));
    assert.match(lines[first]!, /answered 500:$/, 'broken at a space where there is one');
    assert.equal(lines[next], '#13 failed: no answer within 180 s');
  });

  it('keeps whole trace ids when short questions leave room for them', () => {
    const one = result(1, { question: 'What is OTLP?' });
    const lines = summaryTable([one], [verdict(one)], 80);
    assert.equal(lines[1], `1  What is OTLP?  passed     40 ms     101  ${TRACE.slice(0, -2)}01`);
  });

  it('fails an answered question that missed an expectation, naming the first one missed and the others', () => {
    const missed = [score('mentions', false, 'missing "OTLP" (2 of 3 expected mentioned)'), score('tokens', false)];
    const judged = results.map((r) => (r.index === 3 ? verdict(r, missed) : verdict(r)));
    const lines = summaryTable(results, judged, 80);
    assert.match(lines.find((l) => l.startsWith(' 3 '))!, / failed +120 ms/);
    const text = lines.join('\n');
    assert.ok(
      lines.every((l) => l.length <= 80),
      text,
    );
    const reason = text.replace(/\n {4}/g, ' ');
    assert.match(reason, /^#3 failed mentions: missing "OTLP" \(2 of 3 expected mentioned\); also failed: tokens$/m);
    assert.ok(reason.indexOf('#3 failed') < reason.indexOf('#12 failed: '), 'in question order');
  });

  it('totals verdicts, the pass rate against the bar, mean scores, p50/p95 latency of the answers, and tokens', () => {
    const totals = suiteTotals(results);
    assert.deepEqual(totals, { total: 13, passed: 11, failed: 2, latencyMs: { p50: 240, p95: 440 }, tokens: 1166 });
    const judged = results.map((r) => (r.index === 1 ? verdict(r, [score('mentions', false)]) : verdict(r)));
    assert.deepEqual(totalsLines(totals, evaluationTotals(judged), 0.75), [
      '13 questions: 10 passed, 3 failed (2 not answered)',
      'pass rate 76.9%, meets the bar of 75%',
      'mean scores: answered 0.85, mentions 0.00',
      'latency p50 240 ms, p95 440 ms; 1,166 tokens',
    ]);
    assert.equal(totalsLines(totals, evaluationTotals(judged), 0.8)[1], 'pass rate 76.9%, below the bar of 80%');
    const unanswered = [results[12]!];
    assert.deepEqual(
      totalsLines(suiteTotals(unanswered), evaluationTotals(unanswered.map((r) => verdict(r))), 1).at(-1),
      'latency: no answers; 0 tokens',
    );
    const twice = results.slice(0, 12);
    assert.equal(
      totalsLines(suiteTotals(twice), evaluationTotals(twice.map((r) => verdict(r))), 1, { repeat: 2 })[0],
      '12 requests (6 questions × 2): 11 passed, 1 failed (1 not answered)',
    );
  });

  it('wraps the mean scores to the width', () => {
    const many = ['answered', 'mentions', 'cites', 'tools', 'latency', 'tokens', 'correctness', 'groundedness'];
    const judged = results.slice(0, 2).map((r) => ({ ...verdict(r), scores: many.map((name) => score(name, true)) }));
    const lines = totalsLines(suiteTotals(results.slice(0, 2)), evaluationTotals(judged), 1, { width: 80 });
    assert.ok(
      lines.every((l) => l.length <= 80),
      lines.join('\n'),
    );
    assert.equal(lines.filter((l) => l.startsWith('    ')).length, 1);
  });

  it('writes latencies in ms, then seconds', () => {
    assert.deepEqual([0, 999, 1000, 12_345, 99_949, 180_000].map(formatLatency), ['0 ms', '999 ms', '1.0 s', '12.3 s', '99.9 s', '180 s']);
  });
});
