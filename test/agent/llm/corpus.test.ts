import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORPUS } from '../../../src/agent/llm/corpus.ts';

describe('built-in corpus', () => {
  it('has at least 40 passages with unique ids and titles and non-empty text', () => {
    assert.ok(CORPUS.length >= 40, `only ${CORPUS.length} passages`);
    assert.equal(new Set(CORPUS.map((p) => p.id)).size, CORPUS.length, 'duplicate id');
    assert.equal(new Set(CORPUS.map((p) => p.title)).size, CORPUS.length, 'duplicate title');
    for (const passage of CORPUS) {
      assert.match(passage.id, /^[a-z0-9-]+$/, passage.id);
      assert.ok(passage.title.trim().length > 0, passage.id);
      assert.ok(passage.text.length >= 100, `${passage.id} is too short to answer from`);
    }
  });

  it('covers MLflow, OpenTelemetry and Databricks', () => {
    const perTopic = Map.groupBy(CORPUS, (p) => p.topic);
    for (const topic of ['mlflow', 'opentelemetry', 'databricks'] as const) {
      assert.ok((perTopic.get(topic)?.length ?? 0) >= 10, `${topic}: ${perTopic.get(topic)?.length ?? 0} passages`);
    }
  });

  it('explains every subject the brief names', () => {
    const text = CORPUS.map((p) => `${p.title} ${p.text}`)
      .join('\n')
      .toLowerCase();
    const subjects = [
      'tracking server',
      'experiment',
      'span type',
      'token usage',
      'mlflow.genai.evaluate',
      'traces tab',
      'autolog',
      'traceparent',
      'context propagation',
      'otlp',
      'collector',
      'semantic conventions',
      'gen_ai.operation.name',
      'sampling',
      'exporter',
      'serving endpoint',
      'oauth m2m',
      'personal access token',
      'unity catalog',
    ];
    for (const subject of subjects) assert.ok(text.includes(subject), `nothing about ${subject}`);
  });

  it('links passages to public https documentation pages', () => {
    for (const passage of CORPUS) {
      if (passage.url === undefined) continue;
      const url = new URL(passage.url);
      assert.equal(url.protocol, 'https:', passage.id);
      assert.match(url.hostname, /(^|\.)(mlflow\.org|opentelemetry\.io|w3\.org|databricks\.com)$/, passage.id);
    }
  });
});
