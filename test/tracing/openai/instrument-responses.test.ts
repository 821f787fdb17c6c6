import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import OpenAI, { APIPromise, RateLimitError } from 'openai';
import type { FunctionTool, ResponseCreateParamsNonStreaming, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { instrumentOpenAI, type OpenAIInstrumentationOptions } from '../../../src/tracing/openai/instrument-openai.ts';
import { startFakeOpenAI, type FakeOpenAI, type FakeReply } from '../../fakes/fake-openai.ts';
import { FAKE_EMBEDDING_DIMENSIONS } from '../../fakes/fake-openai-responses.ts';
import { jsonAttribute as json, onlySpanIn, collect } from '../span-fixtures.ts';

const API_KEY = 'sk-test-responses-8e1f2a';
const MODEL = 'gpt-5-mini';

const WEATHER_TOOL: FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};
const TOOL_CALLS = [{ id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris, France"}' }];

const exporter = new InMemorySpanExporter();
const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('instrument-responses-test');
let fake: FakeOpenAI;
let reply: FakeReply = {};

function client(options: Partial<OpenAIInstrumentationOptions> = {}): OpenAI {
  const openai = new OpenAI({ apiKey: API_KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
  return instrumentOpenAI(openai, { tracer, provider: 'openai', captureContent: true, contentAttributes: 'mlflow', ...options });
}

const onlySpan = () => onlySpanIn(exporter.getFinishedSpans());

const question = (input: string): ResponseCreateParamsNonStreaming => ({ model: MODEL, instructions: 'Answer briefly.', input });

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  fake = await startFakeOpenAI({ script: () => reply });
});
afterEach(() => {
  exporter.reset();
  fake.requests.length = 0;
  reply = {};
});
after(async () => {
  context.disable();
  await fake.close();
});

describe('instrumentOpenAI: the Responses API', () => {
  it('records responses.create as a CHAT_MODEL span with the request, the Response and token usage', async () => {
    reply = { content: 'Paris.', usage: { prompt_tokens: 21, completion_tokens: 2 } };
    const response = await client().responses.create({ ...question('Capital of France?'), temperature: 0.3, max_output_tokens: 64 });
    assert.equal(response.output_text, 'Paris.', 'the SDK still adds output_text');

    const span = onlySpan();
    assert.equal(span.name, 'chat gpt-5-mini');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.status.code, SpanStatusCode.OK);
    const { 'mlflow.spanInputs': inputs, 'mlflow.spanOutputs': outputs, ...small } = span.attributes;
    assert.deepEqual(small, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': MODEL,
      'mlflow.message.format': 'openai',
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 64,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(fake.url).port),
      'mlflow.spanType': 'CHAT_MODEL',
      'gen_ai.response.id': response.id,
      'gen_ai.response.model': MODEL,
      'gen_ai.response.finish_reasons': ['stop'],
      'mlflow.chat.tokenUsage': '{"input_tokens":21,"output_tokens":2,"total_tokens":23}',
      'gen_ai.usage.input_tokens': 21,
      'gen_ai.usage.output_tokens': 2,
    });
    assert.deepEqual(JSON.parse(inputs as string), { ...question('Capital of France?'), temperature: 0.3, max_output_tokens: 64 });
    assert.deepEqual(JSON.parse(outputs as string), JSON.parse(JSON.stringify(response)));
  });

  it('records function tools in MLflow chat-tool form and the calls the model asked for', async () => {
    reply = { toolCalls: TOOL_CALLS };
    const response = await client().responses.create({ ...question('Weather in Paris?'), tools: [WEATHER_TOOL] });
    const span = onlySpan();
    assert.deepEqual(json(span, 'mlflow.chat.tools'), [
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_TOOL.parameters },
      },
    ]);
    assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['tool_calls']);
    assert.deepEqual((json(span, 'mlflow.spanOutputs') as { output: unknown }).output, JSON.parse(JSON.stringify(response.output)));
  });

  it('keeps the APIPromise: withResponse() gives the data and the Response', async () => {
    const promise = client().responses.create(question('Hi'));
    assert.ok(promise instanceof APIPromise);
    const { data, response } = await promise.withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.output_text, 'Hello from the fake model.');
    assert.equal(onlySpan().status.code, SpanStatusCode.OK);
  });

  it('stream: true: the caller gets every event, and the span records the completed Response once', async () => {
    reply = { content: 'Paris is the capital.', usage: { prompt_tokens: 30, completion_tokens: 5 } };
    const events = await collect(await client().responses.create({ ...question('Capital of France?'), stream: true }));
    assert.equal(events[0]!.type, 'response.created');
    assert.equal(events.at(-1)!.type, 'response.completed');
    const text = events.map((event) => (event.type === 'response.output_text.delta' ? event.delta : '')).join('');
    assert.equal(text, 'Paris is the capital.');

    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.OK);
    assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":30,"output_tokens":5,"total_tokens":35}');
    const firstChunk = span.attributes['gen_ai.response.time_to_first_chunk'];
    assert.ok(typeof firstChunk === 'number' && firstChunk > 0 && firstChunk < 5);
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
    assert.deepEqual(json(span, 'mlflow.spanOutputs'), JSON.parse(JSON.stringify(completed.response)));
  });

  it('responses.stream(): one span, and the function call arguments arrive whole', async () => {
    reply = { toolCalls: TOOL_CALLS };
    const final = await client()
      .responses.stream({ model: MODEL, instructions: 'Answer briefly.', input: 'Weather in Paris?', tools: [WEATHER_TOOL] })
      .finalResponse();
    const span = onlySpan();
    const outputs = json(span, 'mlflow.spanOutputs') as { output: { type: string; arguments: string }[] };
    assert.equal(outputs.output[0]!.type, 'function_call');
    assert.equal(outputs.output[0]!.arguments, '{"city":"Paris, France"}');
    assert.equal(final.id, span.attributes['gen_ai.response.id']);
  });

  it('a consumer that breaks out early ends the span with the text that arrived', async () => {
    reply = { content: 'one two three four five' };
    const stream = await client().responses.create({ ...question('Count'), stream: true });
    let received = '';
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') received += event.delta;
      if (received.includes('two')) break;
    }
    const span = onlySpan();
    assert.deepEqual(
      span.events.map((event) => [event.name, event.attributes]),
      [['otel_mlflow.stream.ended_early', { reason: 'consumer_stopped' }]],
    );
    const outputs = json(span, 'mlflow.spanOutputs') as { status: string; output: { content: { text: string }[] }[] };
    assert.equal(outputs.status, 'in_progress');
    assert.equal(outputs.output[0]!.content[0]!.text, received);
  });

  it('a stream that fails mid-way is an ERROR span, and the consumer gets the error', async () => {
    reply = { content: 'one two three', interrupt: { afterChunks: 5, with: 'error' } };
    const stream = await client().responses.create({ ...question('Count'), stream: true });
    await assert.rejects(collect(stream), /while streaming/);
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'APIError');
  });

  it('a refused call is an ERROR span with the status, and the same error rethrown', async () => {
    reply = { status: 429 };
    await assert.rejects(client().responses.create(question('Hi')), RateLimitError);
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['http.response.status_code'], 429);
  });

  it("with contentAttributes 'gen_ai', records input, instructions and output as GenAI messages", async () => {
    reply = { toolCalls: TOOL_CALLS };
    await client({ contentAttributes: 'gen_ai' }).responses.create({
      model: MODEL,
      instructions: 'Answer briefly.',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] },
        { type: 'function_call', call_id: 'call_0', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_0', output: 'sunny' },
      ],
      tools: [WEATHER_TOOL],
    });
    const span = onlySpan();
    for (const key of ['mlflow.spanInputs', 'mlflow.spanOutputs', 'mlflow.chat.tools', 'mlflow.message.format'])
      assert.equal(span.attributes[key], undefined, key);
    assert.deepEqual(json(span, 'gen_ai.system_instructions'), [{ type: 'text', content: 'Answer briefly.' }]);
    assert.deepEqual(json(span, 'gen_ai.input.messages'), [
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_0', name: 'get_weather', arguments: '{}' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_0', response: 'sunny' }] },
    ]);
    assert.deepEqual(json(span, 'gen_ai.output.messages'), [
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris, France"}' }],
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('with captureContent off, records no input, instructions, output or tools', async () => {
    reply = { toolCalls: TOOL_CALLS };
    const openai = client({ captureContent: false });
    await openai.responses.create({ ...question('Weather in Paris?'), tools: [WEATHER_TOOL] });
    await collect(await openai.responses.create({ ...question('Weather in Paris?'), tools: [WEATHER_TOOL], stream: true }));
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      const recorded = JSON.stringify(span.attributes);
      for (const secret of ['Weather in Paris', 'Answer briefly', 'get_weather', 'Paris, France'])
        assert.ok(!recorded.includes(secret), `${secret} in ${recorded}`);
      assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":11,"output_tokens":7,"total_tokens":18}');
    }
  });
});

describe('instrumentOpenAI: embeddings', () => {
  it('records embeddings.create as an EMBEDDING span: the input, usage and dimensions, not the vectors', async () => {
    reply = { usage: { prompt_tokens: 9, completion_tokens: 0 } };
    const result = await client().embeddings.create({ model: 'text-embedding-3-small', input: ['MLflow tracing', 'OpenTelemetry'] });
    assert.equal(result.data.length, 2);
    assert.equal(result.data[0]!.embedding.length, FAKE_EMBEDDING_DIMENSIONS, 'the SDK still decodes the vectors');
    assert.equal(fake.requests[0]!.path, '/v1/embeddings');

    const span = onlySpan();
    assert.equal(span.name, 'embeddings text-embedding-3-small');
    assert.equal(span.status.code, SpanStatusCode.OK);
    const { 'mlflow.spanInputs': inputs, 'mlflow.spanOutputs': outputs, ...small } = span.attributes;
    assert.deepEqual(small, {
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'text-embedding-3-small',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(fake.url).port),
      'mlflow.spanType': 'EMBEDDING',
      'gen_ai.response.model': 'text-embedding-3-small',
      'gen_ai.embeddings.dimension.count': FAKE_EMBEDDING_DIMENSIONS,
      'mlflow.chat.tokenUsage': '{"input_tokens":9,"output_tokens":0,"total_tokens":9}',
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 0,
    });
    assert.deepEqual(JSON.parse(inputs as string), { model: 'text-embedding-3-small', input: ['MLflow tracing', 'OpenTelemetry'] });
    assert.deepEqual(JSON.parse(outputs as string), {
      object: 'list',
      model: 'text-embedding-3-small',
      data: [
        { index: 0, object: 'embedding', dimensions: FAKE_EMBEDDING_DIMENSIONS },
        { index: 1, object: 'embedding', dimensions: FAKE_EMBEDDING_DIMENSIONS },
      ],
      usage: { prompt_tokens: 9, total_tokens: 9 },
    });
  });

  it('counts the dimensions of base64 vectors a caller asked for, and records the format', async () => {
    const result = await client().embeddings.create({ model: 'text-embedding-3-small', input: 'hi', encoding_format: 'base64' });
    assert.equal(typeof result.data[0]!.embedding, 'string');
    const span = onlySpan();
    assert.equal(span.attributes['gen_ai.embeddings.dimension.count'], FAKE_EMBEDDING_DIMENSIONS);
    assert.deepEqual(span.attributes['gen_ai.request.encoding_formats'], ['base64']);
  });

  it('with captureContent off, records no input; a failure is an ERROR span', async () => {
    await client({ captureContent: false }).embeddings.create({ model: 'text-embedding-3-small', input: 'private text' });
    assert.ok(!JSON.stringify(onlySpan().attributes).includes('private text'));
    exporter.reset();
    reply = { status: 500 };
    await assert.rejects(client().embeddings.create({ model: 'text-embedding-3-small', input: 'hi' }));
    assert.equal(onlySpan().status.code, SpanStatusCode.ERROR);
  });
});
