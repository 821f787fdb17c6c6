import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeJsonAttribute, otlpAttributes } from '../../src/tracing/encode-attributes.ts';
import { withAttributes } from '../../src/spans/span-with-changes.ts';
import { decodeOtlpJson, decodeOtlpProtobuf, type OtlpResourceSpans } from '../../src/otlp/otlp-decode.ts';
import { anyValueToJs } from '../fakes/python-any-value.ts';
import { otlpJson, otlpProtobuf, readableSpan } from '../fakes/readable-spans.ts';

const RECORDED = {
  'mlflow.spanType': 'CHAT_MODEL',
  'mlflow.spanInputs': '{"messages":[{"role":"user","content":"What is MLflow tracing?"}]}',
  'mlflow.spanOutputs': '{"choices":[{"index":0,"message":{"role":"assistant","content":"It records spans.","tool_calls":null}}]}',
  'mlflow.chat.tokenUsage': '{"input_tokens":5,"output_tokens":7,"total_tokens":12}',
  'mlflow.chat.tools': '[{"type":"function","function":{"name":"calculator"}}]',
  'gen_ai.input.messages': '[{"role":"user","parts":[]}]',
  'gen_ai.usage.input_tokens': 5,
};

function wireKinds(request: OtlpResourceSpans[]): Record<string, string> {
  return Object.fromEntries(request[0]!.spans[0]!.attributes.map((kv) => [kv.key, kv.value.kind]));
}

function wireValue(request: OtlpResourceSpans[], key: string): unknown {
  const found = request[0]!.spans[0]!.attributes.find((kv) => kv.key === key);
  return found === undefined ? undefined : anyValueToJs(found.value);
}

describe('attribute encoding for MLflow', () => {
  it('records objects as JSON text and wraps top-level arrays so servers up to 3.8 read them back as objects', () => {
    assert.equal(encodeJsonAttribute({ query: 'q' }), '{"query":"q"}');
    assert.equal(encodeJsonAttribute([{ id: 1 }]), '{"items":[{"id":1}]}');
    assert.equal(encodeJsonAttribute('plain'), '"plain"');
    assert.equal(encodeJsonAttribute(undefined), 'null');
  });

  it('never puts mlflow.traceRequestId on the OTLP wire', () => {
    const attributes = { 'mlflow.traceRequestId': 'tr-1', 'mlflow.spanType': 'LLM' };
    assert.deepEqual(otlpAttributes(attributes), { 'mlflow.spanType': 'LLM' });
    const clean = { 'mlflow.spanType': 'LLM', 'session.id': 's-1' };
    assert.equal(otlpAttributes(clean), clean);
  });

  for (const [encoding, serialize, decode] of [
    ['protobuf', otlpProtobuf, decodeOtlpProtobuf],
    ['OTLP/JSON', otlpJson, (body: Buffer) => decodeOtlpJson(JSON.parse(body.toString('utf8')))],
  ] as const) {
    it(`sends MLflow's object-valued attributes as kvlist / array values over ${encoding}, plain strings as strings`, () => {
      const span = readableSpan({
        traceId: '163a8080d544a5d7a1570cc417d69ac7',
        spanId: 'aa00000000000001',
        name: 'llm',
        attributes: RECORDED,
      });
      const request = decode(serialize([withAttributes(span, otlpAttributes(span.attributes))]));
      assert.deepEqual(wireKinds(request), {
        'mlflow.spanType': 'string',
        'mlflow.spanInputs': 'kvlist',
        'mlflow.spanOutputs': 'kvlist',
        'mlflow.chat.tokenUsage': 'kvlist',
        'mlflow.chat.tools': 'array',
        'gen_ai.input.messages': 'string',
        'gen_ai.usage.input_tokens': 'int',
      });
      assert.deepEqual(wireValue(request, 'mlflow.spanOutputs'), JSON.parse(RECORDED['mlflow.spanOutputs']));
      assert.deepEqual(wireValue(request, 'mlflow.chat.tokenUsage'), { input_tokens: 5, output_tokens: 7, total_tokens: 12 });
    });
  }

  it('sends a JSON-encoded scalar input as the scalar, and text that is not JSON unchanged', () => {
    assert.deepEqual(otlpAttributes({ 'mlflow.spanInputs': '"plain"', 'mlflow.spanOutputs': 'not json' }), {
      'mlflow.spanInputs': 'plain',
      'mlflow.spanOutputs': 'not json',
    });
  });
});
