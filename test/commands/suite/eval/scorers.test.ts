import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoreAnswered } from '../../../../src/commands/suite/eval/scorers/answered.ts';
import { scoreCites } from '../../../../src/commands/suite/eval/scorers/cites.ts';
import { scoreLatency } from '../../../../src/commands/suite/eval/scorers/latency.ts';
import { scoreMentions } from '../../../../src/commands/suite/eval/scorers/mentions.ts';
import type { ScoredAnswer } from '../../../../src/commands/suite/eval/scorers/scorer.ts';
import { scoreTokens } from '../../../../src/commands/suite/eval/scorers/tokens.ts';
import { scoreTools } from '../../../../src/commands/suite/eval/scorers/tools.ts';

function answer(overrides: Partial<ScoredAnswer> = {}): ScoredAnswer {
  return {
    endpoint: 'chat',
    status: 'ok',
    httpStatus: 200,
    answer: 'MLflow accepts OTLP/HTTP at /v1/traces, encoded as protobuf.',
    sources: null,
    tools: null,
    latencyMs: 1200,
    tokens: 450,
    ...overrides,
  };
}

const failed = answer({
  status: 'failed',
  httpStatus: 502,
  error: 'HTTP 502 llm_error: the model answered 500',
  answer: null,
  tokens: null,
});

describe('scorers', () => {
  it('answered: passes a 2xx answer, fails anything else with the reason, as a CODE source', () => {
    assert.deepEqual(scoreAnswered(answer(), {}), {
      name: 'answered',
      value: true,
      passed: true,
      rationale: 'answered with HTTP 200',
      source: { type: 'CODE', id: 'otel-mlflow/answered' },
    });
    const refused = scoreAnswered(failed, {})!;
    assert.equal(refused.passed, false);
    assert.equal(refused.rationale, 'no answer: HTTP 502 llm_error: the model answered 500');
    assert.equal(scoreAnswered(answer({ status: 'failed', httpStatus: null, answer: null }), {})!.rationale, 'no answer: no HTTP answer');
  });

  it('mentions: the share of phrases found (case and spacing aside), passing only with all, naming what is missing', () => {
    const all = scoreMentions(answer(), { mentions: ['otlp/http', '/V1/TRACES', 'grpc | protobuf'] })!;
    assert.equal(all.value, 1);
    assert.equal(all.passed, true);
    assert.equal(all.rationale, 'mentions all 3 expected: "otlp/http", "/V1/TRACES" and "grpc | protobuf"');
    assert.equal(all.source.id, 'otel-mlflow/mentions');

    const some = scoreMentions(answer(), { mentions: ['OTLP', 'x-mlflow-experiment-id', 'SQL backend'] })!;
    assert.equal(some.value, 1 / 3);
    assert.equal(some.passed, false);
    assert.equal(some.rationale, 'missing "x-mlflow-experiment-id" and "SQL backend" (1 of 3 expected mentioned)');
    // A bar without spaces is part of the phrase, not a choice.
    assert.equal(scoreMentions(answer({ answer: 'use a|b' }), { mentions: ['a|b'] })!.passed, true);
    assert.equal(scoreMentions(answer(), { mentions: ['grpc|protobuf'] })!.passed, false);
  });

  it('mentions: nothing to score without phrases or without an answer', () => {
    assert.equal(scoreMentions(answer(), {}), undefined);
    assert.equal(scoreMentions(answer(), { mentions: [] }), undefined);
    assert.equal(scoreMentions(failed, { mentions: ['OTLP'] }), undefined);
  });

  it('cites: /rag sources matched by id or title, and only on /rag', () => {
    const rag = answer({
      endpoint: 'rag',
      sources: [
        { id: 'mlflow-otlp-ingest', title: 'Sending OpenTelemetry traces to MLflow' },
        { id: 'otel-otlp', title: 'What OTLP is' },
      ],
    });
    const met = scoreCites(rag, { cites: ['mlflow-otlp-ingest', 'what otlp is'] })!;
    assert.deepEqual([met.value, met.passed], [1, true]);
    assert.equal(met.rationale, 'cites all 2 expected: cited "mlflow-otlp-ingest" and "otel-otlp"');
    const missed = scoreCites(rag, { cites: ['mlflow-otlp-ingest', 'otel-collector'] })!;
    assert.deepEqual([missed.value, missed.passed], [0.5, false]);
    assert.equal(missed.rationale, 'does not cite "otel-collector"; cited "mlflow-otlp-ingest" and "otel-otlp"');
    assert.equal(scoreCites(answer({ endpoint: 'rag', sources: [] }), { cites: ['x'] })!.rationale, 'does not cite "x"; cited nothing');
    assert.equal(scoreCites(answer(), { cites: ['mlflow-otlp-ingest'] }), undefined, 'a /chat answer has no sources to score');
  });

  it('tools: every expected tool called on /agent, and only on /agent', () => {
    const agent = answer({ endpoint: 'agent', tools: ['search_corpus', 'search_corpus'] });
    const met = scoreTools(agent, { tools: ['search_corpus'] })!;
    assert.deepEqual([met.value, met.passed, met.rationale], [1, true, 'called "search_corpus", as expected']);
    const missed = scoreTools(agent, { tools: ['search_corpus', 'calculator'] })!;
    assert.deepEqual([missed.value, missed.passed], [0.5, false]);
    assert.equal(missed.rationale, 'did not call "calculator"; called "search_corpus"');
    assert.equal(
      scoreTools(answer({ endpoint: 'agent', tools: [] }), { tools: ['calculator'] })!.rationale,
      'did not call "calculator"; called no tool',
    );
    assert.equal(scoreTools(answer({ endpoint: 'rag' }), { tools: ['search_corpus'] }), undefined);
  });

  it('latency and tokens: within the budget passes, over it fails, saying both numbers', () => {
    assert.deepEqual(
      [scoreLatency(answer(), { maxLatencyMs: 5000 })!.passed, scoreLatency(answer(), { maxLatencyMs: 5000 })!.rationale],
      [true, 'took 1.2 s, within the budget of 5.0 s'],
    );
    const slow = scoreLatency(answer(), { maxLatencyMs: 800 })!;
    assert.deepEqual([slow.value, slow.passed, slow.rationale], [false, false, 'took 1.2 s, over the budget of 800 ms']);
    assert.equal(scoreTokens(answer({ tokens: 12_500 }), { maxTokens: 8000 })!.rationale, 'used 12,500 tokens, over the budget of 8,000');
    assert.equal(scoreTokens(answer(), { maxTokens: 450 })!.passed, true);
    assert.equal(scoreLatency(answer(), {}), undefined);
    assert.equal(scoreTokens(failed, { maxTokens: 10 }), undefined);
  });
});
