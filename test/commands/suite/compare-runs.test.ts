import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TOLERANCE, parseTolerance } from '../../../src/commands/suite/eval/compare-flags.ts';
import { compareRuns, parseResultLines } from '../../../src/commands/suite/eval/compare-runs.ts';
import { ExpectedError } from '../../../src/errors.ts';

const side = (metrics: Record<string, number>, passed: Record<string, boolean> = {}) => ({
  metrics,
  params: { question_set_digest: 'd' },
  results: Object.entries(passed).map(([id, ok]) => ({ id, question: id, passed: ok })),
});

describe('comparing a suite run with a baseline', () => {
  it('an unchanged run has no regression; latency jitter under 100 ms is noise', () => {
    const comparison = compareRuns(
      { runId: 'r1', ...side({ pass_rate: 1, latency_p95_ms: 40 }, { a: true }) },
      side({ pass_rate: 1, latency_p95_ms: 90 }, { a: true }),
      DEFAULT_TOLERANCE,
    );
    assert.deepEqual(comparison.regressions, []);
    assert.deepEqual(comparison.questions, []);
    assert.equal(comparison.questionSetChanged, false);
  });

  it('a pass-rate drop, a scorer mean drop and p95 +20% beyond 100 ms are regressions; tokens are shown, not gated', () => {
    const comparison = compareRuns(
      { runId: 'r1', ...side({ pass_rate: 1, mentions_mean: 0.9, latency_p95_ms: 1000, tokens_total: 100 }, { a: true, b: false }) },
      side({ pass_rate: 0.5, mentions_mean: 0.8, latency_p95_ms: 1300, tokens_total: 500 }, { a: false, b: true }),
      DEFAULT_TOLERANCE,
    );
    assert.deepEqual(
      comparison.metrics.filter((m) => m.regression).map((m) => m.metric),
      ['latency_p95_ms', 'mentions_mean', 'pass_rate'],
    );
    assert.equal(comparison.metrics.find((m) => m.metric === 'tokens_total')?.verdict, 'worse');
    assert.deepEqual(comparison.questions, [
      { question: 'a', before: 'passed', after: 'failed' },
      { question: 'b', before: 'failed', after: 'passed' },
    ]);
  });

  it('--tolerance widens what is allowed', () => {
    const tolerance = parseTolerance('score=0.5,latency=50%');
    assert.deepEqual(tolerance, { score: 0.5, latency: 0.5 });
    const comparison = compareRuns(
      { runId: 'r1', ...side({ pass_rate: 1, latency_p95_ms: 1000 }) },
      side({ pass_rate: 0.5, latency_p95_ms: 1400 }),
      tolerance,
    );
    assert.deepEqual(comparison.regressions, []);
  });

  it('a malformed --tolerance is refused, saying what it takes', () => {
    assert.throws(
      () => parseTolerance('speed=3'),
      (error) => error instanceof ExpectedError && /score=/.test(error.hint ?? ''),
    );
    assert.throws(() => parseTolerance('score=2'), /more than the whole range/);
  });

  it('a question passes across repeats only when every repeat passed; lines that are not results are skipped', () => {
    const lines = parseResultLines('{"id":"a","question":"A","passed":true}\n{"id":"a","question":"A","passed":false}\nnot json\n');
    const comparison = compareRuns(
      { runId: 'r1', metrics: {}, params: {}, results: [{ id: 'a', question: 'A', passed: true }] },
      { metrics: {}, params: {}, results: lines },
      DEFAULT_TOLERANCE,
    );
    assert.deepEqual(comparison.questions, [{ question: 'a', before: 'passed', after: 'failed' }]);
  });
});
