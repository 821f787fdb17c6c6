import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutContent } from '../../src/tracing/content-filter.ts';

describe('content capture off', () => {
  it('drops what OpenInference and OpenLLMetry record of prompts, answers, documents and tool arguments', () => {
    const kept = withoutContent({
      'openinference.span.kind': 'LLM',
      'input.value': '{"question":"my secret plan"}',
      'input.mime_type': 'application/json',
      'output.value': 'the plan',
      'llm.input_messages.0.message.role': 'user',
      'llm.input_messages.0.message.content': 'my secret plan',
      'llm.output_messages.0.message.content': 'the plan',
      'llm.model_name': 'gpt-4o-mini',
      'llm.token_count.prompt': 11,
      'retrieval.documents.0.document.content': 'a private page',
      'gen_ai.prompt.0.role': 'user',
      'gen_ai.prompt.0.content': 'my secret plan',
      'gen_ai.completion.0.content': 'the plan',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 11,
      'traceloop.entity.input': '{"q":"my secret plan"}',
      'traceloop.entity.output': '"the plan"',
      'traceloop.span.kind': 'workflow',
    });
    assert.deepEqual(kept, {
      'openinference.span.kind': 'LLM',
      'input.mime_type': 'application/json',
      'llm.model_name': 'gpt-4o-mini',
      'llm.token_count.prompt': 11,
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 11,
      'traceloop.span.kind': 'workflow',
    });
  });

  it('answers the same object when nothing in it is content', () => {
    const attributes = { 'gen_ai.request.model': 'gpt-4o-mini', 'http.response.status_code': 200 };
    assert.equal(withoutContent(attributes), attributes);
  });
});
