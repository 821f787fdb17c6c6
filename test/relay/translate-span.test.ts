import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LocalSpan } from '../../src/spans/local-span.ts';
import { toMlflowSpan } from '../../src/relay/translate-span.ts';

function span(attributes: LocalSpan['attributes'], events: LocalSpan['events'] = []): LocalSpan {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: null,
    name: 'span',
    kind: 0,
    startTimeUnixNano: '1764806400000000000',
    endTimeUnixNano: '1764806400500000000',
    status: { code: 0 },
    attributes,
    events,
    resource: { 'service.name': 'app' },
    scope: { name: 'test' },
  };
}

/** An attribute MLflow stores as JSON, read back. */
function json(translated: LocalSpan, key: string): unknown {
  const value = translated.attributes[key];
  assert.equal(typeof value, 'string', `${key} is JSON text`);
  return JSON.parse(value as string);
}

const QUESTION = [{ role: 'user', parts: [{ type: 'text', content: 'What is the capital of France?' }] }];
const ANSWER = [{ role: 'assistant', parts: [{ type: 'text', content: 'Paris.' }], finish_reason: 'stop' }];

describe('GenAI semantic conventions', () => {
  it('a chat span becomes a CHAT_MODEL span with OpenAI-shaped messages, usage, model and provider', () => {
    const original = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be brief.' }]),
      'gen_ai.input.messages': JSON.stringify(QUESTION),
      'gen_ai.output.messages': JSON.stringify(ANSWER),
    };
    const translated = toMlflowSpan(span(original));
    assert.equal(translated.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
    });
    assert.deepEqual(json(translated, 'mlflow.spanOutputs'), {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.' }, finish_reason: 'stop' }],
    });
    assert.deepEqual(json(translated, 'mlflow.chat.tokenUsage'), { input_tokens: 12, output_tokens: 7, total_tokens: 19 });
    assert.equal(translated.attributes['mlflow.llm.model'], 'gpt-4o-mini-2024-07-18', 'the model that answered, as MLflow prefers');
    assert.equal(translated.attributes['mlflow.llm.provider'], 'openai');
    assert.equal(translated.attributes['mlflow.message.format'], 'openai');
    for (const [key, value] of Object.entries(original)) assert.equal(translated.attributes[key], value, `${key} kept as sent`);
  });

  it('tool calls and tool results become OpenAI tool_calls and tool messages; tool definitions become mlflow.chat.tools', () => {
    const translated = toMlflowSpan(
      span({
        'gen_ai.operation.name': 'chat',
        'gen_ai.tool.definitions': JSON.stringify([{ type: 'function', name: 'add', description: 'Adds', parameters: { type: 'object' } }]),
        'gen_ai.input.messages': JSON.stringify([
          { role: 'user', parts: [{ type: 'text', content: '2+2?' }] },
          { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'add', arguments: { a: 2, b: 2 } }] },
          { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: 4 }] },
        ]),
      }),
    );
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), {
      messages: [
        { role: 'user', content: '2+2?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'add', arguments: '{"a":2,"b":2}' } }],
        },
        { role: 'tool', content: '4', tool_call_id: 'c1' },
      ],
    });
    assert.deepEqual(json(translated, 'mlflow.chat.tools'), [
      { type: 'function', function: { name: 'add', description: 'Adds', parameters: { type: 'object' } } },
    ]);
  });

  it('an embeddings span is an EMBEDDING span', () => {
    const translated = toMlflowSpan(span({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.request.model': 'text-embedding-3-small' }));
    assert.equal(translated.attributes['mlflow.spanType'], 'EMBEDDING');
    assert.equal(translated.attributes['mlflow.llm.model'], 'text-embedding-3-small');
    assert.equal(translated.attributes['mlflow.spanInputs'], undefined);
  });

  it('an execute_tool span is a TOOL span with the call arguments in and the result out', () => {
    const translated = toMlflowSpan(
      span({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'calculator',
        'gen_ai.tool.call.arguments': '{"expression":"2+2"}',
        'gen_ai.tool.call.result': '4',
      }),
    );
    assert.equal(translated.attributes['mlflow.spanType'], 'TOOL');
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), { expression: '2+2' });
    assert.equal(json(translated, 'mlflow.spanOutputs'), 4);
    assert.equal(translated.attributes['mlflow.message.format'], undefined, 'not chat-shaped');
  });

  it('an invoke_agent span is an AGENT span whose inputs preview as the question, and it gets no token usage', () => {
    const translated = toMlflowSpan(
      span({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'probe-agent',
        'gen_ai.input.messages': JSON.stringify(QUESTION),
        'gen_ai.output.messages': JSON.stringify(ANSWER),
        // The run's total, which its chat spans carry again.
        'gen_ai.usage.input_tokens': 12,
        'gen_ai.usage.output_tokens': 7,
      }),
    );
    assert.equal(translated.attributes['mlflow.spanType'], 'AGENT');
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), { messages: [{ role: 'user', content: 'What is the capital of France?' }] });
    assert.equal(
      (json(translated, 'mlflow.spanOutputs') as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      'Paris.',
    );
    assert.equal(translated.attributes['mlflow.chat.tokenUsage'], undefined);
  });

  it('the older prompt/completion attributes and message events are read too', () => {
    const fromAttributes = toMlflowSpan(
      span({
        'gen_ai.system': 'openai',
        'gen_ai.prompt': JSON.stringify([{ role: 'user', content: 'Hi' }]),
        'gen_ai.completion': JSON.stringify([{ role: 'assistant', content: 'Hello' }]),
      }),
    );
    assert.deepEqual(json(fromAttributes, 'mlflow.spanInputs'), { messages: [{ role: 'user', content: 'Hi' }] });
    assert.deepEqual(json(fromAttributes, 'mlflow.spanOutputs'), {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' } }],
    });
    assert.equal(fromAttributes.attributes['mlflow.llm.provider'], 'openai');

    const time = '1764806400100000000';
    const fromEvents = toMlflowSpan(
      span({ 'gen_ai.operation.name': 'chat' }, [
        { name: 'gen_ai.system.message', timeUnixNano: time, attributes: { content: 'Be brief.' } },
        { name: 'gen_ai.user.message', timeUnixNano: time, attributes: { content: 'Hi' } },
        {
          name: 'gen_ai.choice',
          timeUnixNano: time,
          attributes: { index: 0, finish_reason: 'stop', message: '{"role":"assistant","content":"Hello"}' },
        },
      ]),
    );
    assert.deepEqual(json(fromEvents, 'mlflow.spanInputs'), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    assert.deepEqual(json(fromEvents, 'mlflow.spanOutputs'), {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
    });
  });
});

describe('OpenInference', () => {
  it('an LLM span gets its flattened messages in the chat shape, token counts and model', () => {
    const translated = toMlflowSpan(
      span({
        'openinference.span.kind': 'LLM',
        'input.value': '{"messages":[{"role":"user","content":"Hi"}],"model":"gpt-4o"}',
        'input.mime_type': 'application/json',
        'llm.input_messages.0.message.role': 'system',
        'llm.input_messages.0.message.content': 'Be brief.',
        'llm.input_messages.1.message.role': 'user',
        'llm.input_messages.1.message.content': 'Hi',
        'llm.output_messages.0.message.role': 'assistant',
        'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'c1',
        'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'lookup',
        'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"q":"x"}',
        'llm.token_count.prompt': 10,
        'llm.token_count.completion': 4,
        'llm.token_count.total': 14,
        'llm.model_name': 'gpt-4o',
        'llm.provider': 'openai',
        'llm.tools.0.tool.json_schema': '{"type":"function","function":{"name":"lookup"}}',
      }),
    );
    assert.equal(translated.attributes['mlflow.spanType'], 'LLM');
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    assert.deepEqual(json(translated, 'mlflow.spanOutputs'), {
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }],
          },
        },
      ],
    });
    assert.deepEqual(json(translated, 'mlflow.chat.tokenUsage'), { input_tokens: 10, output_tokens: 4, total_tokens: 14 });
    assert.equal(translated.attributes['mlflow.llm.model'], 'gpt-4o');
    assert.equal(translated.attributes['mlflow.llm.provider'], 'openai');
    assert.deepEqual(json(translated, 'mlflow.chat.tools'), [{ type: 'function', function: { name: 'lookup' } }]);
  });

  it('a RETRIEVER span shows its documents as page_content, metadata and id', () => {
    const translated = toMlflowSpan(
      span({
        'openinference.span.kind': 'RETRIEVER',
        'input.value': 'capital of France',
        'retrieval.documents.0.document.id': 'doc-1',
        'retrieval.documents.0.document.content': 'Paris is the capital of France.',
        'retrieval.documents.0.document.metadata': '{"source":"wiki"}',
        'retrieval.documents.0.document.score': 0.9,
        'retrieval.documents.1.document.id': 7,
        'retrieval.documents.1.document.content': 'France is in Europe.',
      }),
    );
    assert.equal(translated.attributes['mlflow.spanType'], 'RETRIEVER');
    assert.equal(json(translated, 'mlflow.spanInputs'), 'capital of France');
    assert.deepEqual(json(translated, 'mlflow.spanOutputs'), {
      documents: [
        { page_content: 'Paris is the capital of France.', metadata: { source: 'wiki', score: 0.9 }, id: 'doc-1' },
        { page_content: 'France is in Europe.', metadata: {}, id: '7' },
      ],
    });
  });

  it('a TOOL span keeps input.value and output.value as its inputs and outputs', () => {
    const translated = toMlflowSpan(
      span({ 'openinference.span.kind': 'TOOL', 'tool.name': 'add', 'input.value': '{"a":1,"b":2}', 'output.value': '3' }),
    );
    assert.equal(translated.attributes['mlflow.spanType'], 'TOOL');
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), { a: 1, b: 2 });
    assert.equal(json(translated, 'mlflow.spanOutputs'), 3);
    assert.equal(translated.attributes['mlflow.chat.tokenUsage'], undefined);
  });
});

describe('OpenLLMetry (Traceloop)', () => {
  it('workflow and task spans take their type and entity input/output', () => {
    const workflow = toMlflowSpan(
      span({
        'traceloop.span.kind': 'workflow',
        'traceloop.entity.name': 'answer',
        'traceloop.entity.input': '{"args":["Hi"],"kwargs":{}}',
        'traceloop.entity.output': '"Hello"',
      }),
    );
    assert.equal(workflow.attributes['mlflow.spanType'], 'WORKFLOW');
    assert.deepEqual(json(workflow, 'mlflow.spanInputs'), { args: ['Hi'], kwargs: {} });
    assert.equal(json(workflow, 'mlflow.spanOutputs'), 'Hello');
    const task = toMlflowSpan(span({ 'traceloop.span.kind': 'task', 'traceloop.entity.input': '{"q":1}' }));
    assert.equal(task.attributes['mlflow.spanType'], 'TASK');
  });

  it('an LLM span gets its flattened prompts and completions, usage, model and provider', () => {
    const translated = toMlflowSpan(
      span({
        'llm.request.type': 'chat',
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.prompt.0.role': 'user',
        'gen_ai.prompt.0.content': 'Hi',
        'gen_ai.completion.0.role': 'assistant',
        'gen_ai.completion.0.content': 'Hello',
        'gen_ai.completion.0.finish_reason': 'stop',
        'gen_ai.usage.prompt_tokens': 3,
        'gen_ai.usage.completion_tokens': 2,
        'llm.usage.total_tokens': 5,
      }),
    );
    assert.equal(translated.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), { messages: [{ role: 'user', content: 'Hi' }] });
    assert.deepEqual(json(translated, 'mlflow.spanOutputs'), {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
    });
    assert.deepEqual(json(translated, 'mlflow.chat.tokenUsage'), { input_tokens: 3, output_tokens: 2, total_tokens: 5 });
    assert.equal(translated.attributes['mlflow.llm.model'], 'gpt-4o');
    assert.equal(translated.attributes['mlflow.llm.provider'], 'openai');
    assert.equal(translated.attributes['mlflow.message.format'], 'openai');
  });
});

describe("the client's own values", () => {
  it('mlflow.* values the client set are never replaced', () => {
    const mine = {
      'mlflow.spanType': 'LLM',
      'mlflow.spanInputs': '{"prompt":"mine"}',
      'mlflow.chat.tokenUsage': '{"input_tokens":100,"output_tokens":50,"total_tokens":150}',
      'mlflow.llm.model': 'my-model',
    };
    const translated = toMlflowSpan(
      span({
        ...mine,
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 101,
        'gen_ai.usage.output_tokens': 51,
        'gen_ai.input.messages': JSON.stringify(QUESTION),
        'gen_ai.output.messages': JSON.stringify(ANSWER),
      }),
    );
    for (const [key, value] of Object.entries(mine)) assert.equal(translated.attributes[key], value);
    assert.ok(translated.attributes['mlflow.spanOutputs'], 'what the client left unset is still derived');
    assert.equal(translated.attributes['mlflow.message.format'], undefined, "the client's inputs are not known to be OpenAI-shaped");
  });

  it('mlflow.traceRequestId is removed, and nothing else changes on a span without conventions', () => {
    const translated = toMlflowSpan(span({ 'mlflow.traceRequestId': 'tr-0af7651916cd43dd8448eb211c80319c', 'http.method': 'GET' }));
    assert.deepEqual(translated.attributes, { 'http.method': 'GET' });
  });

  it('a span of no known convention comes back as it was', () => {
    const original = span({ 'http.request.method': 'GET', 'url.full': 'http://127.0.0.1/x', 'http.response.status_code': 200 });
    assert.equal(toMlflowSpan(original), original);
  });

  it('the span given is not changed', () => {
    const original = span({ 'gen_ai.operation.name': 'chat', 'mlflow.traceRequestId': 'tr-x' });
    const before = structuredClone(original);
    toMlflowSpan(original);
    assert.deepEqual(original, before);
  });
});

describe('malformed values', () => {
  it('invalid JSON messages are shown as they came, and never throw', () => {
    const translated = toMlflowSpan(
      span({ 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': '[{"role":"user",', 'gen_ai.output.messages': '42' }),
    );
    assert.equal(translated.attributes['gen_ai.input.messages'], '[{"role":"user",');
    assert.equal(json(translated, 'mlflow.spanInputs'), '[{"role":"user",');
    assert.equal(json(translated, 'mlflow.spanOutputs'), 42);
    assert.equal(translated.attributes['mlflow.message.format'], undefined);
  });

  it('non-numeric or half-given token counts give no usage', () => {
    const usages: LocalSpan['attributes'][] = [
      { 'gen_ai.usage.input_tokens': 'many', 'gen_ai.usage.output_tokens': 2 },
      { 'gen_ai.usage.input_tokens': -1, 'gen_ai.usage.output_tokens': 2 },
      { 'gen_ai.usage.input_tokens': 1.5, 'gen_ai.usage.output_tokens': 2 },
      { 'gen_ai.usage.input_tokens': 3 },
    ];
    for (const usage of usages) {
      const translated = toMlflowSpan(span({ 'gen_ai.operation.name': 'chat', ...usage }));
      assert.equal(translated.attributes['mlflow.chat.tokenUsage'], undefined, JSON.stringify(usage));
      assert.equal(translated.attributes['mlflow.spanType'], 'CHAT_MODEL');
    }
  });

  it('numeric text counts as a token count', () => {
    const translated = toMlflowSpan(
      span({ 'llm.token_count.prompt': '10', 'llm.token_count.completion': '5', 'openinference.span.kind': 'LLM' }),
    );
    assert.deepEqual(json(translated, 'mlflow.chat.tokenUsage'), { input_tokens: 10, output_tokens: 5, total_tokens: 15 });
  });

  it('unknown kinds, odd message items and stray flattened keys are ignored', () => {
    const translated = toMlflowSpan(
      span({
        'gen_ai.operation.name': 'dance',
        'openinference.span.kind': 'NOPE',
        'gen_ai.input.messages': '[1, "two", null]',
        'llm.input_messages.x.message.role': 'user',
        'llm.input_messages.0.message.content': 'no role',
        'gen_ai.tool.definitions': '{"not":"a list"}',
      }),
    );
    assert.equal(translated.attributes['mlflow.spanType'], undefined);
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), { items: [1, 'two', null] });
    assert.equal(translated.attributes['mlflow.chat.tools'], undefined);
  });
});
