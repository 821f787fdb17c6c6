import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import OpenAI, { APIConnectionError, APIError, APIPromise, APIUserAbortError, InternalServerError, RateLimitError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionTool } from 'openai/resources/chat/completions';
import { instrumentOpenAI, type OpenAIInstrumentationOptions } from '../../../src/tracing/openai/instrument-openai.ts';
import { startFakeOpenAI, type FakeOpenAI, type FakeReply } from '../../fakes/fake-openai.ts';
import { jsonAttribute as json, onlySpanIn, collect, countedSerialisations } from '../span-fixtures.ts';

const API_KEY = 'sk-test-4f1d9c0e7b2a';
const MODEL = 'gpt-4o-mini';
const SNAPSHOT = 'gpt-4o-mini-2024-07-18';

const WEATHER_TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const TOOL_CALLS = [
  { id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris, France"}' },
  { id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' },
];

const exporter = new InMemorySpanExporter();
const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('instrument-openai-test');
let fake: FakeOpenAI;
/** What the fake answers to the next calls. */
let reply: FakeReply = {};

function client(options: Partial<OpenAIInstrumentationOptions> = {}): OpenAI {
  const openai = new OpenAI({ apiKey: API_KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
  return instrumentOpenAI(openai, { tracer, provider: 'openai', captureContent: true, contentAttributes: 'mlflow', ...options });
}

const onlySpan = () => onlySpanIn(exporter.getFinishedSpans());

function text(chunks: ChatCompletionChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

const question = (content: string): ChatCompletionCreateParamsNonStreaming => ({
  model: MODEL,
  messages: [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content },
  ],
});

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

describe('instrumentOpenAI: plain calls', () => {
  it('records one CHAT_MODEL span with the request, the response, token usage and the GenAI keys', async () => {
    reply = { content: 'Paris.', usage: { prompt_tokens: 21, completion_tokens: 2 }, model: SNAPSHOT };
    const body = { ...question('Capital of France?'), temperature: 0.2, max_completion_tokens: 64, top_p: 0.9, seed: 7, stop: 'END' };
    const completion = await client().chat.completions.create(body);
    assert.match(completion._request_id ?? '', /^req_fake_\d+$/, 'the SDK still attaches the request id');

    const span = onlySpan();
    assert.equal(span.name, 'chat gpt-4o-mini');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.status.code, SpanStatusCode.OK);
    assert.equal(span.parentSpanContext, undefined);
    const { 'mlflow.spanInputs': inputs, 'mlflow.spanOutputs': outputs, ...small } = span.attributes;
    assert.deepEqual(small, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': MODEL,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(fake.url).port),
      'mlflow.message.format': 'openai',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.seed': 7,
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.stop_sequences': ['END'],
      'mlflow.spanType': 'CHAT_MODEL',
      'gen_ai.response.id': completion.id,
      'gen_ai.response.model': SNAPSHOT,
      'gen_ai.response.finish_reasons': ['stop'],
      'mlflow.chat.tokenUsage': '{"input_tokens":21,"output_tokens":2,"total_tokens":23}',
      'gen_ai.usage.input_tokens': 21,
      'gen_ai.usage.output_tokens': 2,
    });
    assert.deepEqual(JSON.parse(inputs as string), body);
    assert.deepEqual(JSON.parse(outputs as string), JSON.parse(JSON.stringify(completion)));
    assert.deepEqual(JSON.parse(outputs as string).choices[0], {
      index: 0,
      message: { role: 'assistant', content: 'Paris.', refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    });
  });

  it('nests the span under the active span', async () => {
    const openai = client();
    await tracer.startActiveSpan('handle request', async (parent) => {
      await openai.chat.completions.create(question('Hi'));
      parent.end();
    });
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((span) => span.name === 'handle request')!;
    const chat = spans.find((span) => span.name === 'chat gpt-4o-mini')!;
    assert.equal(chat.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(chat.spanContext().traceId, parent.spanContext().traceId);
  });

  it('records tool definitions and the tool calls the model asked for', async () => {
    reply = { toolCalls: TOOL_CALLS };
    const completion = await client().chat.completions.create({ ...question('Weather in Paris and Oslo?'), tools: [WEATHER_TOOL] });
    const span = onlySpan();
    assert.deepEqual(json(span, 'mlflow.chat.tools'), [WEATHER_TOOL]);
    assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['tool_calls']);
    const outputs = json(span, 'mlflow.spanOutputs') as { choices: { message: unknown }[] };
    assert.deepEqual(outputs.choices[0]!.message, JSON.parse(JSON.stringify(completion.choices[0]!.message)));
  });

  it('keeps the APIPromise: withResponse() gives the data, the Response and the request id', async () => {
    const promise = client().chat.completions.create(question('Hi'));
    assert.ok(promise instanceof APIPromise);
    const { data, response, request_id } = await promise.withResponse();
    assert.equal(response.status, 200);
    assert.match(request_id ?? '', /^req_fake_\d+$/);
    assert.equal(request_id, response.headers.get('x-request-id'));
    assert.equal(data.choices[0]!.message.content, 'Hello from the fake model.');
    assert.equal((json(onlySpan(), 'mlflow.spanOutputs') as { id: string }).id, data.id);
  });

  it('leaves the body to a caller who takes the raw response, and still ends the span', async () => {
    const response = await client().chat.completions.create(question('Hi')).asResponse();
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]!.message.content, 'Hello from the fake model.');
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes['mlflow.spanOutputs'], undefined);
  });
});

describe('instrumentOpenAI: streaming', () => {
  it('asks for usage, hides the usage chunk from a caller who did not, and records the stream as one completion', async () => {
    reply = { content: 'Paris is the capital.', usage: { prompt_tokens: 30, completion_tokens: 5 } };
    const stream = await client().chat.completions.create({ ...question('Capital of France?'), stream: true });
    const chunks = await collect(stream);

    assert.deepEqual(fake.requests[0]!.body.stream_options, { include_usage: true });
    assert.equal(text(chunks), 'Paris is the capital.');
    assert.ok(
      chunks.every((chunk) => chunk.choices.length > 0),
      'no usage-only chunk reaches the caller',
    );
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.OK);
    assert.deepEqual(span.events, []);
    assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":30,"output_tokens":5,"total_tokens":35}');
    assert.equal(span.attributes['gen_ai.usage.input_tokens'], 30);
    assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['stop']);
    const firstChunk = span.attributes['gen_ai.response.time_to_first_chunk'];
    assert.ok(typeof firstChunk === 'number' && firstChunk > 0 && firstChunk < 5, `time to first chunk in seconds: ${firstChunk}`);
    assert.deepEqual(json(span, 'mlflow.spanOutputs'), {
      id: chunks[0]!.id,
      object: 'chat.completion',
      created: chunks[0]!.created,
      model: MODEL,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Paris is the capital.', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 },
      system_fingerprint: 'fp_fake',
    });
    assert.deepEqual((json(span, 'mlflow.spanInputs') as { stream_options: unknown }).stream_options, { include_usage: true });
  });

  it("keeps the caller's own stream_options: usage chunk delivered when asked for, not requested when refused", async () => {
    const openai = client();
    const asked = await collect(
      await openai.chat.completions.create({ ...question('Hi'), stream: true, stream_options: { include_usage: true } }),
    );
    assert.deepEqual(asked.at(-1)!.choices, []);
    assert.equal(asked.at(-1)!.usage?.total_tokens, 18);

    exporter.reset();
    await collect(await openai.chat.completions.create({ ...question('Hi'), stream: true, stream_options: { include_usage: false } }));
    assert.deepEqual(fake.requests[1]!.body.stream_options, { include_usage: false });
    assert.equal(onlySpan().attributes['mlflow.chat.tokenUsage'], undefined);
  });

  it('merges tool-call deltas split across chunks into the final message', async () => {
    reply = { toolCalls: TOOL_CALLS };
    const stream = await client().chat.completions.create({
      ...question('Weather in Paris and Oslo?'),
      tools: [WEATHER_TOOL],
      stream: true,
    });
    const chunks = await collect(stream);
    assert.ok(chunks.filter((chunk) => chunk.choices[0]?.delta.tool_calls).length > 4, 'the fake splits the arguments');

    const span = onlySpan();
    const outputs = json(span, 'mlflow.spanOutputs') as { choices: { message: unknown; finish_reason: string }[] };
    assert.deepEqual(outputs.choices[0], {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: TOOL_CALLS.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
    assert.deepEqual(json(span, 'mlflow.chat.tools'), [WEATHER_TOOL]);
  });

  it('ends the span when the consumer breaks out early, with what arrived', async () => {
    reply = { content: 'one two three four five' };
    const stream = await client().chat.completions.create({ ...question('Count'), stream: true });
    let received = '';
    for await (const chunk of stream) {
      received += chunk.choices[0]?.delta.content ?? '';
      if (received.includes('two')) break;
    }
    assert.ok(stream.controller.signal.aborted, 'breaking out still cancels the request, as without tracing');
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(
      span.events.map((event) => [event.name, event.attributes]),
      [['otel_mlflow.stream.ended_early', { reason: 'consumer_stopped' }]],
    );
    const outputs = json(span, 'mlflow.spanOutputs') as { choices: { message: { content: string }; finish_reason: null }[] };
    assert.equal(outputs.choices[0]!.message.content, received);
    assert.equal(outputs.choices[0]!.finish_reason, null);
    assert.equal(span.attributes['gen_ai.response.finish_reasons'], undefined);
  });

  it('ends the span as aborted when the request signal aborts mid-stream', async () => {
    reply = { content: 'one two three four five', interrupt: { afterChunks: 3, with: 'stall' } };
    const abort = new AbortController();
    const stream = await client().chat.completions.create({ ...question('Count'), stream: true }, { signal: abort.signal });
    let chunks = 0;
    for await (const _chunk of stream) {
      chunks += 1;
      if (chunks === 3) abort.abort();
    }
    assert.equal(chunks, 3);
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'APIUserAbortError');
    assert.deepEqual(
      span.events.map((event) => event.name),
      ['otel_mlflow.stream.ended_early', 'exception'],
    );
    assert.deepEqual(span.events[0]!.attributes, { reason: 'aborted' });
    assert.equal(
      (json(span, 'mlflow.spanOutputs') as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      'one two ',
    );
  });

  it('marks the span ERROR when the stream fails mid-way, and the consumer gets the error', async () => {
    reply = { content: 'one two three', interrupt: { afterChunks: 2, with: 'error' } };
    const stream = await client().chat.completions.create({ ...question('Count'), stream: true });
    await assert.rejects(collect(stream), (error: unknown) => error instanceof APIError && /while streaming/.test(error.message));
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.match(span.status.message ?? '', /while streaming/);
    assert.equal(span.attributes['error.type'], 'APIError');
  });

  it('keeps the Stream API: tee() branches both see every chunk, and the span ends once', async () => {
    const stream = await client().chat.completions.create({ ...question('Hi'), stream: true });
    const [left, right] = stream.tee();
    const [a, b] = await Promise.all([collect(left), collect(right)]);
    assert.equal(text(a), 'Hello from the fake model.');
    assert.equal(text(b), 'Hello from the fake model.');
    assert.equal(onlySpan().attributes['gen_ai.usage.output_tokens'], 7);
  });
});

describe('instrumentOpenAI: errors', () => {
  for (const [status, ErrorClass] of [
    [429, RateLimitError],
    [500, InternalServerError],
  ] as const) {
    it(`${status}: ERROR span with the exception, and the same ${ErrorClass.name} rethrown`, async () => {
      reply = { status };
      let thrown: unknown;
      await client()
        .chat.completions.create(question('Hi'))
        .catch((error: unknown) => {
          thrown = error;
        });
      assert.ok(thrown instanceof ErrorClass, `got ${String(thrown)}`);
      const span = onlySpan();
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.status.message, (thrown as Error).message);
      assert.equal(span.attributes['error.type'], ErrorClass.name);
      assert.equal(span.attributes['http.response.status_code'], status);
      const exception = span.events.find((event) => event.name === 'exception');
      assert.equal(exception?.attributes?.['exception.message'], (thrown as Error).message);
      assert.equal(span.attributes['mlflow.spanOutputs'], undefined);
    });
  }

  it('ends the span of a failed call even when the promise is mapped further (chat.completions.parse)', async () => {
    reply = { status: 429 };
    await assert.rejects(client().chat.completions.parse(question('Hi')), RateLimitError);
    assert.equal(onlySpan().status.code, SpanStatusCode.ERROR);
  });

  it('a body that is not JSON is an ERROR span with the parse error rethrown', async () => {
    reply = { rawBody: '{"id": "chatcmpl-cut-off", "choi' };
    await assert.rejects(client().chat.completions.create(question('Hi')), SyntaxError);
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'SyntaxError');
  });

  it('an answer of an unexpected shape reaches the caller unchanged, and the span still ends', async () => {
    const openai = client();
    reply = { rawBody: 'null' };
    assert.equal(await openai.chat.completions.create(question('Hi')), null);
    reply = { rawBody: 'data: null\n\ndata: {"note":"no choices"}\n\ndata: [DONE]\n\n' };
    const chunks = await collect(await openai.chat.completions.create({ ...question('Hi'), stream: true }));
    assert.deepEqual(chunks, [null, { note: 'no choices' }]);
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    assert.ok(spans.every((span) => span.status.code === SpanStatusCode.OK));
  });

  it('a connection failure is an ERROR span with the connection error rethrown', async () => {
    const openai = instrumentOpenAI(new OpenAI({ apiKey: API_KEY, baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 }), {
      tracer,
      provider: 'openai',
      captureContent: true,
      contentAttributes: 'mlflow',
    });
    await assert.rejects(openai.chat.completions.create(question('Hi')), APIConnectionError);
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'APIConnectionError');
  });
});

describe('instrumentOpenAI: content', () => {
  it('records the request as the SDK sent it, serialised once, through a derived client too', async () => {
    const { body, serialisations } = countedSerialisations(question('Hi'));
    await client().chat.completions.create(body);
    assert.equal(serialisations(), 1);
    assert.deepEqual(json(onlySpan(), 'mlflow.spanInputs'), question('Hi'));

    exporter.reset();
    const again = countedSerialisations(question('Hi'));
    const derived = client().withOptions({ timeout: 5_000 }).withOptions({ maxRetries: 0 });
    instrumentOpenAI(derived, { tracer, provider: 'openai', captureContent: true, contentAttributes: 'mlflow' });
    await derived.chat.completions.create(again.body);
    assert.equal(again.serialisations(), 1, 'a client derived with withOptions() serialises once too');
    assert.deepEqual(json(onlySpan(), 'mlflow.spanInputs'), question('Hi'));
  });

  it('takes no other request the client sends during the call for its inputs (a credential exchange holds secrets)', async () => {
    const exchange = JSON.stringify({ grant_type: 'client_credentials', client_assertion: 'eyJhbGciOi.secret-assertion' });
    class ExchangingClient extends OpenAI {
      protected override async prepareRequest(): Promise<void> {
        // As a credential exchange does before the call's own request: through the client's fetch, in the call's context.
        await (this as unknown as { fetch: (url: string, init: RequestInit) => Promise<Response> }).fetch(`${fake.url}/oauth/token`, {
          method: 'POST',
          body: exchange,
        });
      }
    }
    const openai = instrumentOpenAI(new ExchangingClient({ apiKey: API_KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 }), {
      tracer,
      provider: 'openai',
      captureContent: true,
      contentAttributes: 'mlflow',
    });
    await openai.chat.completions.create(question('Hi'));
    const span = onlySpan();
    assert.deepEqual(json(span, 'mlflow.spanInputs'), question('Hi'));
    assert.ok(!JSON.stringify(span.attributes).includes('secret-assertion'));
  });

  it('records the request of a call never sent at its end', async () => {
    await assert.rejects(client().chat.completions.create(question('Never sent'), { signal: AbortSignal.abort() }), APIUserAbortError);
    assert.equal(fake.requests.length, 0);
    assert.deepEqual(json(onlySpan(), 'mlflow.spanInputs'), question('Never sent'));
  });

  it('with captureContent off, records no messages, outputs, tools or tool arguments, but still usage, model and finish reasons', async () => {
    reply = { toolCalls: TOOL_CALLS, model: SNAPSHOT };
    const openai = client({ captureContent: false });
    await openai.chat.completions.create({ ...question('Weather in Paris?'), tools: [WEATHER_TOOL] });
    await collect(await openai.chat.completions.create({ ...question('Weather in Paris?'), tools: [WEATHER_TOOL], stream: true }));

    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      const recorded = JSON.stringify(span.attributes);
      for (const secret of ['Weather in Paris', 'Answer briefly', 'get_weather', 'Paris, France']) {
        assert.ok(!recorded.includes(secret), `${secret} in ${recorded}`);
      }
      assert.equal(span.attributes['gen_ai.response.model'], SNAPSHOT);
      assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['tool_calls']);
      assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":11,"output_tokens":7,"total_tokens":18}');
    }
  });

  it("with contentAttributes 'gen_ai', records content once, as GenAI messages", async () => {
    reply = { toolCalls: [TOOL_CALLS[0]!] };
    const openai = client({ contentAttributes: 'gen_ai' });
    await openai.chat.completions.create({
      ...question('Weather in Paris?'),
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_0', content: 'sunny' },
      ],
      tools: [WEATHER_TOOL],
    });
    const span = onlySpan();
    for (const key of ['mlflow.spanInputs', 'mlflow.spanOutputs', 'mlflow.chat.tools', 'mlflow.message.format']) {
      assert.equal(span.attributes[key], undefined, key);
    }
    assert.deepEqual(json(span, 'gen_ai.input.messages'), [
      { role: 'system', parts: [{ type: 'text', content: 'Answer briefly.' }] },
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
    assert.deepEqual(json(span, 'gen_ai.tool.definitions'), [WEATHER_TOOL]);
    assert.equal(span.attributes['gen_ai.usage.input_tokens'], 11);
  });

  it('never puts the API key on a span, though every request sends it', async () => {
    const openai = client();
    await openai.chat.completions.create(question('Hi'));
    await collect(await openai.chat.completions.create({ ...question('Hi'), stream: true }));
    reply = { status: 500 };
    await assert.rejects(openai.chat.completions.create(question('Hi')));

    assert.ok(fake.requests.every((request) => request.headers.authorization === `Bearer ${API_KEY}`));
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 3);
    for (const span of spans) {
      const recorded = JSON.stringify([span.name, span.attributes, span.events, span.status]);
      assert.ok(!recorded.includes(API_KEY.slice(3)), `API key on span ${span.name}`);
    }
  });

  it('instruments a client once, however often it is asked', async () => {
    const openai = client();
    instrumentOpenAI(openai, { tracer, provider: 'openai', captureContent: true, contentAttributes: 'mlflow' });
    await openai.chat.completions.create(question('Hi'));
    onlySpan();
  });
});

describe('instrumentOpenAI: a call the sampler leaves out', () => {
  const sampledOut = new TracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const untracedClient = () =>
    instrumentOpenAI(new OpenAI({ apiKey: API_KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 }), {
      tracer: sampledOut.getTracer('sampled-out'),
      provider: 'openai',
      captureContent: true,
      contentAttributes: 'mlflow',
    });

  it('is the call as the caller made it: no span, the request serialised once (for the wire), no usage asked for on a stream', async () => {
    const { body, serialisations } = countedSerialisations(question('Hi'));
    const promise = untracedClient().chat.completions.create(body);
    assert.ok(promise instanceof APIPromise);
    const { data, request_id } = await promise.withResponse();
    assert.equal(data.choices[0]!.message.content, 'Hello from the fake model.');
    assert.match(request_id ?? '', /^req_fake_\d+$/);
    assert.equal(serialisations(), 1);

    const chunks = await collect(await untracedClient().chat.completions.create({ ...question('Hi'), stream: true }));
    assert.equal(fake.requests[1]!.body.stream_options, undefined);
    assert.ok(chunks.length > 0 && chunks.every((chunk) => chunk.choices.length > 0));
    assert.deepEqual(exporter.getFinishedSpans(), []);
  });
});
