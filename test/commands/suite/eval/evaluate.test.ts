import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateAnswer, evaluationTotals, meetsBar, type EvaluatedAnswer } from '../../../../src/commands/suite/eval/evaluate.ts';
import type { Judge } from '../../../../src/commands/suite/eval/judge/llm-judge.ts';

function asked(index: number, overrides: Partial<EvaluatedAnswer> = {}): EvaluatedAnswer {
  return {
    index,
    id: `q${index}`,
    question: 'How do I send OpenTelemetry traces to MLflow?',
    traceId: `tr-${String(index).padStart(32, '0')}`,
    endpoint: 'rag',
    status: 'ok',
    httpStatus: 200,
    answer: 'Post OTLP/HTTP protobuf to /v1/traces with the x-mlflow-experiment-id header.',
    sources: [{ id: 'mlflow-otlp-ingest', title: 'Sending OpenTelemetry traces to MLflow' }],
    tools: null,
    latencyMs: 300,
    tokens: 400,
    ...overrides,
  };
}

const expect = {
  mentions: ['/v1/traces', 'x-mlflow-experiment-id'],
  cites: ['mlflow-otlp-ingest'],
  tools: ['search_corpus'],
  maxLatencyMs: 1000,
  maxTokens: 1000,
};

describe('evaluating answers', () => {
  it('scores every expectation that applies to the endpoint, in a fixed order, and passes when all pass', async () => {
    const evaluation = await evaluateAnswer(asked(1), expect);
    assert.deepEqual(
      evaluation.scores.map((s) => s.name),
      ['answered', 'mentions', 'cites', 'latency', 'tokens'],
      'tools are not scored on /rag',
    );
    assert.deepEqual(
      { ...evaluation, scores: undefined },
      { index: 1, id: 'q1', traceId: asked(1).traceId, passed: true, scores: undefined },
    );
  });

  it('fails a question when one score fails, and scores an unanswered one only as not answered', async () => {
    const over = await evaluateAnswer(asked(2, { tokens: 5000 }), expect);
    assert.equal(over.passed, false);
    assert.deepEqual(
      over.scores.filter((s) => !s.passed).map((s) => s.name),
      ['tokens'],
    );
    const none = await evaluateAnswer(
      asked(3, { status: 'failed', httpStatus: null, error: 'no answer within 180 s', answer: null, sources: null, tokens: null }),
      expect,
    );
    assert.deepEqual(
      none.scores.map((s) => [s.name, s.passed]),
      [['answered', false]],
    );
  });

  it('adds the judge’s scores to answered questions only', async () => {
    const judged: unknown[] = [];
    const judge: Judge = {
      async judge(answer) {
        judged.push(answer);
        return [
          { name: 'correctness', value: false, passed: false, rationale: 'wrong port', source: { type: 'LLM_JUDGE', id: 'gpt-4o-mini' } },
        ];
      },
    };
    const evaluation = await evaluateAnswer(asked(4), expect, judge);
    assert.equal(evaluation.passed, false);
    assert.deepEqual(evaluation.scores.at(-1)?.source, { type: 'LLM_JUDGE', id: 'gpt-4o-mini' });
    assert.deepEqual(judged, [
      { question: asked(4).question, answer: asked(4).answer, expect, traceId: asked(4).traceId, sources: asked(4).sources },
    ]);
    await evaluateAnswer(asked(5, { status: 'failed', httpStatus: 502, answer: null }), expect, judge);
    assert.equal(judged.length, 1);
  });

  it('totals the pass rate and each scorer’s mean over the answers it scored', async () => {
    const evaluations = await Promise.all([
      evaluateAnswer(asked(1), expect),
      evaluateAnswer(asked(2, { answer: 'Use /v1/traces.' }), expect),
      evaluateAnswer(asked(3, { status: 'failed', httpStatus: 502, answer: null, tokens: null }), expect),
    ]);
    const totals = evaluationTotals(evaluations);
    assert.equal(totals.passed, 1);
    assert.equal(totals.total, 3);
    assert.equal(totals.passRate, 1 / 3);
    assert.deepEqual(totals.scorerMeans, { answered: 2 / 3, mentions: 0.75, cites: 1, latency: 1, tokens: 1 });
    assert.equal(meetsBar(totals, 0.33), true);
    assert.equal(meetsBar(totals, 0.34), false);
    assert.equal(meetsBar({ ...totals, passRate: 15 / 16 }, 0.9375), true);
    assert.deepEqual(evaluationTotals([]), { passRate: 0, passed: 0, total: 0, scorerMeans: {} });
  });
});
