import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { searchCorpus } from '../../../src/agent/llm/retrieve.ts';

const topId = (query: string) => searchCorpus(query, 1)[0]?.passage.id;

describe('searchCorpus', () => {
  const expected: [string, string][] = [
    ['What is MLflow tracing?', 'mlflow-tracing'],
    ['How does traceparent propagate context?', 'otel-traceparent'],
    ['What is an OTLP collector?', 'otel-collector'],
    ['What is a Databricks serving endpoint?', 'databricks-model-serving'],
    ['What are span types in MLflow?', 'mlflow-span-types'],
    ['How is token usage recorded?', 'mlflow-token-usage'],
    ['How do I authenticate with OAuth M2M on Databricks?', 'databricks-oauth-m2m'],
    ['How do I send OpenTelemetry traces to MLflow?', 'mlflow-otlp-ingest'],
  ];
  for (const [query, id] of expected) {
    it(`ranks ${id} first for "${query}"`, () => assert.equal(topId(query), id));
  }

  it('matches word forms: "sampled traces" finds the sampling passage', () => {
    assert.equal(topId('sampled traces'), 'otel-sampling');
  });

  it('returns at most topK hits, best first, all with positive scores', () => {
    const hits = searchCorpus('MLflow traces and spans', 5);
    assert.equal(hits.length, 5);
    for (const [i, hit] of hits.entries()) {
      assert.ok(hit.score > 0);
      if (i > 0) assert.ok(hit.score <= hits[i - 1]!.score);
    }
  });

  it('returns nothing for words the corpus does not contain, or for topK 0', () => {
    assert.deepEqual(searchCorpus('banana smoothie recipe', 3), []);
    assert.deepEqual(searchCorpus('What is MLflow tracing?', 0), []);
    assert.deepEqual(searchCorpus('', 3), []);
  });
});
