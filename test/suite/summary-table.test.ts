import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SuiteResult } from '../../src/suite/ask-questions.ts';
import { formatLatency, summaryTable, totalsLines } from '../../src/suite/summary-table.ts';
import { suiteTotals } from '../../src/suite/suite-totals.ts';

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
    ...overrides,
  };
}

const results = [
  ...Array.from({ length: 11 }, (_, i) => result(i + 1)),
  result(12, { status: 'failed', httpStatus: 502, error: `HTTP 502 llm_error: the openai model provider answered 500: ${'x'.repeat(100)}`, tokens: null }),
  result(13, { status: 'failed', httpStatus: null, error: 'no answer within 180 s', tokens: null, traceId: null, latencyMs: 180_000 }),
];

describe('the suite summary', () => {
  it('fits every line in 80 columns, cutting questions and shortening trace ids', () => {
    const lines = summaryTable(results, 80);
    for (const line of lines) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.match(lines[0]!, /^ #  question +status  latency  tokens  trace$/);
    assert.equal(lines[1], ' 1  Question number 1: how does MLflo…  ok        40 ms     101  tr-0123456789ab');
    assert.equal(lines.find((l) => l.startsWith('13')), '13  Question number 13: how does MLfl…  failed    180 s       -  -');
    assert.ok(lines.some((l) => /trace ids cut short/.test(l)));
  });

  it('shows whole trace ids when the terminal is wide enough', () => {
    const lines = summaryTable(results.slice(0, 2), 140);
    assert.ok(lines[1]!.endsWith(results[0]!.traceId!));
    assert.ok(!lines.some((l) => /cut short/.test(l)));
    assert.ok(lines.every((l) => l.length <= 140));
  });

  it('lists each failure with its whole reason under the table, wrapped and indented', () => {
    const lines = summaryTable(results, 80);
    const first = lines.findIndex((l) => l.startsWith('#12 failed: '));
    const next = lines.findIndex((l) => l.startsWith('#13 failed: '));
    assert.ok(first > 0 && next > first + 1, lines.join('\n'));
    const continuation = lines.slice(first + 1, next);
    assert.ok(continuation.every((l) => l.startsWith('    ') && l.length <= 80), continuation.join('\n'));
    const squeeze = (text: string) => text.replace(/\s+/g, '');
    assert.equal(squeeze([lines[first], ...continuation].join('')), squeeze(`#12 failed: ${results[11]!.error}`));
    assert.match(lines[first]!, /answered 500:$/, 'broken at a space where there is one');
    assert.equal(lines[next], '#13 failed: no answer within 180 s');
  });

  it('keeps whole trace ids when short questions leave room for them', () => {
    const lines = summaryTable([result(1, { question: 'What is MLflow?' })], 80);
    assert.equal(lines[1], `1  What is MLflow?  ok        40 ms     101  ${TRACE.slice(0, -2)}01`);
  });

  it('totals passes, failures, p50/p95 latency of the answers, and tokens', () => {
    const totals = suiteTotals(results);
    assert.deepEqual(totals, { total: 13, passed: 11, failed: 2, latencyMs: { p50: 240, p95: 440 }, tokens: 1166 });
    assert.deepEqual(totalsLines(totals), ['13 questions: 11 passed, 2 failed', 'latency p50 240 ms, p95 440 ms; 1,166 tokens']);
    assert.deepEqual(totalsLines(suiteTotals([results[12]!]))[1], 'latency: no answers; 0 tokens');
    assert.equal(totalsLines(suiteTotals(results.slice(0, 12)), undefined, 2)[0], '12 requests (6 questions × 2): 11 passed, 1 failed');
  });

  it('writes latencies in ms, then seconds', () => {
    assert.deepEqual([0, 999, 1000, 12_345, 99_949, 180_000].map(formatLatency), ['0 ms', '999 ms', '1.0 s', '12.3 s', '99.9 s', '180 s']);
  });
});
