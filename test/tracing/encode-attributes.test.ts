import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeJsonAttribute, otlpAttributes } from '../../src/tracing/encode-attributes.ts';

describe('attribute encoding for MLflow', () => {
  it('sends objects as JSON text and wraps top-level arrays so servers up to 3.8 read them back as objects', () => {
    assert.equal(encodeJsonAttribute({ query: 'q' }), '{"query":"q"}');
    assert.equal(encodeJsonAttribute([{ id: 1 }]), '{"items":[{"id":1}]}');
    assert.equal(encodeJsonAttribute('plain'), '"plain"');
    assert.equal(encodeJsonAttribute(undefined), 'null');
  });

  it('never puts mlflow.traceRequestId on the OTLP wire', () => {
    const attributes = { 'mlflow.traceRequestId': 'tr-1', 'mlflow.spanType': 'LLM' };
    assert.deepEqual(otlpAttributes(attributes), { 'mlflow.spanType': 'LLM' });
    const clean = { 'mlflow.spanType': 'LLM' };
    assert.equal(otlpAttributes(clean), clean);
  });
});
