import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import Anthropic, { APIConnectionError, APIPromise, APIUserAbortError, InternalServerError, RateLimitError } from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming, RawMessageStreamEvent, Tool } from '@anthropic-ai/sdk/resources/messages';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { instrumentAnthropic, type AnthropicInstrumentationOptions } from '../../../src/tracing/anthropic/instrument-anthropic.ts';
import { startFakeAnthropic, type FakeAnthropic, type FakeAnthropicReply } from '../../fakes/fake-anthropic.ts';
import { jsonAttribute as json, onlySpanIn, collect, countedSerialisations } from '../span-fixtures.ts';

const API_KEY = 'sk-ant-api03-test-7c2e91d0a4b8';
const MODEL = 'claude-sonnet-5-5';
const SNAPSHOT = 'claude-sonnet-5-5-20261101';

const WEATHER_TOOL: Tool = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const TOOL_USES = [
  { id: 'toolu_paris', name: 'get_weather', input: { city: 'Paris, France' } },
  { id: 'toolu_oslo', name: 'get_weather', input: { city: 'Oslo' } },
];

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('instrument-anthropic-test');
let fake: FakeAnthropic;
/** What the fake answers to the next calls. */
let reply: FakeAnthropicReply = {};

function client(options: Partial<AnthropicInstrumentationOptions> = {}): Anthropic {
  const anthropic = new Anthropic({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0 });
  return instrumentAnthropic(anthropic, { tracer, provider: 'anthropic', captureContent: true, contentAttributes: 'mlflow', ...options });
}

const onlySpan = () => onlySpanIn(exporter.getFinishedSpans());

function text(events: RawMessageStreamEvent[]): string {
  return events
    .map((event) => (event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : ''))
    .join('');
}

const question = (content: string): MessageCreateParamsNonStreaming => ({
  model: MODEL,
  max_tokens: 256,
  system: 'Answer briefly.',
  messages: [{ role: 'user', content }],
});

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  fake = await startFakeAnthropic({ script: () => reply });
});
afterEach(() => {
  exporter.reset();
  fake.requests.length = 0;
  reply = {};
});
after(async () => {
  context.disable();
  trace.disable();
  await fake.close();
});

describe('instrumentAnthropic: plain calls', () => {
  it('records one CHAT_MODEL span with the request, the message, token usage and the GenAI keys', async () => {
    reply = { content: 'Paris.', usage: { input_tokens: 21, output_tokens: 2 }, model: SNAPSHOT };
    const body = { ...question('Capital of France?'), stop_sequences: ['END'] };
    const message = await client().messages.create(body);
    assert.match(message._request_id ?? '', /^req_fake_\d+$/, 'the SDK still attaches the request id');

    const span = onlySpan();
    assert.equal(span.name, 'chat claude-sonnet-5-5');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.status.code, SpanStatusCode.OK);
    const { 'mlflow.spanInputs': inputs, 'mlflow.spanOutputs': outputs, ...small } = span.attributes;
    assert.deepEqual(small, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': MODEL,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(fake.url).port),
      'mlflow.message.format': 'anthropic',
      'gen_ai.request.max_tokens': 256,
      'gen_ai.request.stop_sequences': ['END'],
      'mlflow.spanType': 'CHAT_MODEL',
      'gen_ai.response.id': message.id,
      'gen_ai.response.model': SNAPSHOT,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'mlflow.chat.tokenUsage': '{"input_tokens":21,"output_tokens":2,"total_tokens":23}',
      'gen_ai.usage.input_tokens': 21,
      'gen_ai.usage.output_tokens': 2,
    });
    assert.deepEqual(JSON.parse(inputs as string), body);
    assert.deepEqual(JSON.parse(outputs as string), JSON.parse(JSON.stringify(message)));
    assert.deepEqual(JSON.parse(outputs as string).content, [{ type: 'text', text: 'Paris.' }]);
  });

  it('counts cached input tokens as input, and names them apart', async () => {
    reply = { usage: { input_tokens: 5, output_tokens: 10, cache_read_input_tokens: 1000, cache_creation_input_tokens: 200 } };
    await client().messages.create(question('Hi'));
    const span = onlySpan();
    assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":1205,"output_tokens":10,"total_tokens":1215}');
    assert.equal(span.attributes['gen_ai.usage.input_tokens'], 1205);
    assert.equal(span.attributes['gen_ai.usage.cache_read.input_tokens'], 1000);
    assert.equal(span.attributes['gen_ai.usage.cache_creation.input_tokens'], 200);
  });

  it('nests the span under the active span, and the SDK adds no span of its own', async () => {
    // A registered provider makes the SDK emit its own `anthropic.messages.create` spans, with the same tokens.
    trace.setGlobalTracerProvider(provider);
    const anthropic = client();
    await tracer.startActiveSpan('handle request', async (parent) => {
      await anthropic.messages.create(question('Hi'));
      await anthropic.messages.stream(question('Hi')).finalMessage();
      parent.end();
    });
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(spans.map((span) => span.name).sort(), ['chat claude-sonnet-5-5', 'chat claude-sonnet-5-5', 'handle request']);
    const parent = spans.find((span) => span.name === 'handle request')!;
    for (const chat of spans.filter((span) => span !== parent)) {
      assert.equal(chat.parentSpanContext?.spanId, parent.spanContext().spanId);
      assert.equal(chat.spanContext().traceId, parent.spanContext().traceId);
    }
  });

  it('records tool definitions in MLflow chat-tool form and the tool uses the model asked for', async () => {
    reply = { toolUses: TOOL_USES };
    const message = await client().messages.create({ ...question('Weather in Paris and Oslo?'), tools: [WEATHER_TOOL] });
    const span = onlySpan();
    assert.deepEqual(json(span, 'mlflow.chat.tools'), [
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_TOOL.input_schema },
      },
    ]);
    assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['tool_use']);
    const outputs = json(span, 'mlflow.spanOutputs') as { content: unknown[] };
    assert.deepEqual(outputs.content, [
      { type: 'tool_use', ...TOOL_USES[0] },
      { type: 'tool_use', ...TOOL_USES[1] },
    ]);
    assert.deepEqual(outputs.content, JSON.parse(JSON.stringify(message.content)));
  });

  it('keeps the APIPromise: withResponse() gives the data, the Response and the request id', async () => {
    const promise = client().messages.create(question('Hi'));
    assert.ok(promise instanceof APIPromise);
    const { data, response, request_id } = await promise.withResponse();
    assert.equal(response.status, 200);
    assert.match(request_id ?? '', /^req_fake_\d+$/);
    assert.equal(request_id, response.headers.get('request-id'));
    assert.deepEqual(data.content, [{ type: 'text', text: 'Hello from the fake Claude.' }]);
    assert.equal((json(onlySpan(), 'mlflow.spanOutputs') as { id: string }).id, data.id);
  });

  it('leaves the body to a caller who takes the raw response, and still ends the span', async () => {
    const response = await client().messages.create(question('Hi')).asResponse();
    const body = (await response.json()) as { content: { text: string }[] };
    assert.equal(body.content[0]!.text, 'Hello from the fake Claude.');
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes['mlflow.spanOutputs'], undefined);
  });
});

describe('instrumentAnthropic: streaming', () => {
  it('create({stream: true}): the caller gets every event, and the span records the stream as one message', async () => {
    reply = { content: 'Paris is the capital.', usage: { input_tokens: 30, output_tokens: 5 } };
    const stream = await client().messages.create({ ...question('Capital of France?'), stream: true });
    const events = await collect(stream);

    assert.deepEqual(
      [...new Set(events.map((event) => event.type))],
      ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    assert.equal(text(events), 'Paris is the capital.');
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.OK);
    assert.deepEqual(span.events, []);
    assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":30,"output_tokens":5,"total_tokens":35}');
    assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['end_turn']);
    const firstChunk = span.attributes['gen_ai.response.time_to_first_chunk'];
    assert.ok(typeof firstChunk === 'number' && firstChunk > 0 && firstChunk < 5, `time to first chunk in seconds: ${firstChunk}`);
    const start = events[0] as Extract<RawMessageStreamEvent, { type: 'message_start' }>;
    assert.deepEqual(json(span, 'mlflow.spanOutputs'), {
      ...JSON.parse(JSON.stringify(start.message)),
      content: [{ type: 'text', text: 'Paris is the capital.' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 30, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: 'standard' },
    });
  });

  it('messages.stream(): one span, the MessageStream works as untraced, and tool input arrives whole', async () => {
    reply = { toolUses: TOOL_USES, usage: { input_tokens: 40, output_tokens: 22 } };
    const stream = client().messages.stream({ ...question('Weather in Paris and Oslo?'), tools: [WEATHER_TOOL] });
    const seen: string[] = [];
    stream.on('inputJson', (partial) => seen.push(partial));
    const message = await stream.finalMessage();
    assert.ok(seen.length > 4, 'the fake splits the tool input');
    assert.equal(fake.requests[0]!.body.stream, true);
    assert.deepEqual(JSON.parse(JSON.stringify(message.content)), [
      { type: 'tool_use', ...TOOL_USES[0] },
      { type: 'tool_use', ...TOOL_USES[1] },
    ]);

    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.OK);
    const outputs = json(span, 'mlflow.spanOutputs') as { content: unknown; stop_reason: string; id: string };
    assert.deepEqual(outputs.content, JSON.parse(JSON.stringify(message.content)));
    assert.equal(outputs.stop_reason, 'tool_use');
    assert.equal(outputs.id, message.id);
    assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":40,"output_tokens":22,"total_tokens":62}');
    assert.equal((json(span, 'mlflow.chat.tools') as unknown[]).length, 1);
  });

  it('ends the span when the consumer breaks out early, with what arrived', async () => {
    reply = { content: 'one two three four five' };
    const stream = await client().messages.create({ ...question('Count'), stream: true });
    let received = '';
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') received += event.delta.text;
      if (received.includes('two')) break;
    }
    assert.ok(stream.controller.signal.aborted, 'breaking out still cancels the request, as without tracing');
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(
      span.events.map((event) => [event.name, event.attributes]),
      [['otel_mlflow.stream.ended_early', { reason: 'consumer_stopped' }]],
    );
    const outputs = json(span, 'mlflow.spanOutputs') as { content: { text: string }[]; stop_reason: null };
    assert.equal(outputs.content[0]!.text, received);
    assert.equal(outputs.stop_reason, null);
    assert.equal(span.attributes['gen_ai.response.finish_reasons'], undefined);
  });

  it('ends the span as aborted when MessageStream.abort() stops it mid-way', async () => {
    reply = { content: 'one two three four five', interrupt: { afterEvents: 5, with: 'stall' } };
    const stream = client().messages.stream(question('Count'));
    let deltas = 0;
    stream.on('text', () => {
      deltas += 1;
      if (deltas === 2) stream.abort();
    });
    await assert.rejects(stream.done(), APIUserAbortError);
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'APIUserAbortError');
    assert.deepEqual(span.events[0]!.attributes, { reason: 'aborted' });
    assert.equal((json(span, 'mlflow.spanOutputs') as { content: { text: string }[] }).content[0]!.text, 'one two ');
  });

  it('marks the span ERROR when the stream fails mid-way (an error event), and the consumer gets the error', async () => {
    reply = { content: 'one two three', interrupt: { afterEvents: 4, with: 'error' } };
    const stream = await client().messages.create({ ...question('Count'), stream: true });
    await assert.rejects(collect(stream), /Overloaded/);
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.match(span.status.message ?? '', /Overloaded/);
    assert.equal(span.attributes['error.type'], 'APIError');
  });

  it('keeps the Stream API: tee() branches both see every event, and the span ends once', async () => {
    const stream = await client().messages.create({ ...question('Hi'), stream: true });
    const [left, right] = stream.tee();
    const [a, b] = await Promise.all([collect(left), collect(right)]);
    assert.equal(text(a), 'Hello from the fake Claude.');
    assert.equal(text(b), 'Hello from the fake Claude.');
    assert.equal(onlySpan().attributes['gen_ai.usage.output_tokens'], 8);
  });
});

describe('instrumentAnthropic: derived clients and the beta resource', () => {
  it('traces a client made by withOptions(), and one derived from that, with their own server, and no SDK span', async () => {
    trace.setGlobalTracerProvider(provider);
    const other = await startFakeAnthropic();
    try {
      const derived = client().withOptions({ timeout: 5_000 });
      await derived.messages.create(question('Hi'));
      await derived.withOptions({ baseURL: other.url }).messages.stream(question('Hi')).finalMessage();
      const spans = exporter.getFinishedSpans();
      assert.deepEqual(
        spans.map((span) => [span.name, span.attributes['server.port']]),
        [
          ['chat claude-sonnet-5-5', Number(new URL(fake.url).port)],
          ['chat claude-sonnet-5-5', Number(new URL(other.url).port)],
        ],
      );
      assert.equal(other.requests.length, 1);
    } finally {
      trace.disable();
      await other.close();
    }
  });

  it('beta.messages.create(): one CHAT_MODEL span, the request sent as the SDK sends it', async () => {
    reply = { content: 'Beta answer.', usage: { input_tokens: 9, output_tokens: 3 } };
    const message = await client().beta.messages.create({ ...question('Hi'), betas: ['context-management-2025-06-27'] });
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'Beta answer.');
    // SDK 1 sends the beta resource's messages to /v1/messages too, its betas as a header rather than in the body.
    const [sent] = fake.requests;
    assert.equal(sent?.headers['anthropic-beta'], 'context-management-2025-06-27');
    assert.equal(sent?.body.betas, undefined);
    const span = onlySpan();
    assert.equal(span.name, 'chat claude-sonnet-5-5');
    assert.equal(span.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.equal(span.status.code, SpanStatusCode.OK);
    assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":9,"output_tokens":3,"total_tokens":12}');
    assert.equal((json(span, 'mlflow.spanOutputs') as { id: string }).id, message.id);
  });

  it('beta.messages.stream() and create({stream: true}): one span each, the message assembled', async () => {
    reply = { content: 'Streamed beta answer.', usage: { input_tokens: 30, output_tokens: 5 } };
    const anthropic = client();
    const message = await anthropic.beta.messages.stream(question('Hi')).finalMessage();
    const events = await collect(await anthropic.beta.messages.create({ ...question('Hi'), stream: true }));
    assert.equal(text(events as RawMessageStreamEvent[]), 'Streamed beta answer.');
    assert.deepEqual(
      fake.requests.map((request) => request.body.stream),
      [true, true],
    );
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      assert.equal(span.status.code, SpanStatusCode.OK);
      assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":30,"output_tokens":5,"total_tokens":35}');
      assert.deepEqual((json(span, 'mlflow.spanOutputs') as { content: unknown }).content, [
        { type: 'text', text: 'Streamed beta answer.' },
      ]);
    }
    assert.equal((json(spans[0]!, 'mlflow.spanOutputs') as { id: string }).id, message.id);
  });
});

describe('instrumentAnthropic: errors', () => {
  for (const [status, ErrorClass] of [
    [429, RateLimitError],
    [500, InternalServerError],
  ] as const) {
    it(`${status}: ERROR span with the exception, and the same ${ErrorClass.name} rethrown`, async () => {
      reply = { status };
      let thrown: unknown;
      await client()
        .messages.create(question('Hi'))
        .catch((error: unknown) => {
          thrown = error;
        });
      assert.ok(thrown instanceof ErrorClass, `got ${String(thrown)}`);
      const span = onlySpan();
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.status.message, (thrown as Error).message);
      assert.equal(span.attributes['error.type'], ErrorClass.name);
      assert.equal(span.attributes['http.response.status_code'], status);
      assert.equal(span.attributes['mlflow.spanOutputs'], undefined);
    });
  }

  it('a failed messages.stream() ends its span as ERROR, and the MessageStream rejects as untraced', async () => {
    reply = { status: 529 };
    await assert.rejects(
      client().messages.stream(question('Hi')).finalMessage(),
      (error: unknown) => (error as { status?: number }).status === 529,
    );
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['http.response.status_code'], 529);
  });

  it('a connection failure is an ERROR span with the connection error rethrown', async () => {
    const anthropic = instrumentAnthropic(new Anthropic({ apiKey: API_KEY, baseURL: 'http://127.0.0.1:9', maxRetries: 0 }), {
      tracer,
      provider: 'anthropic',
      captureContent: true,
      contentAttributes: 'mlflow',
    });
    await assert.rejects(anthropic.messages.create(question('Hi')), APIConnectionError);
    assert.equal(onlySpan().attributes['error.type'], 'APIConnectionError');
  });
});

describe('instrumentAnthropic: content', () => {
  it('with captureContent off, records no messages, outputs, tools or tool input, but still usage, model and stop reason', async () => {
    reply = { toolUses: TOOL_USES, model: SNAPSHOT };
    const anthropic = client({ captureContent: false });
    await anthropic.messages.create({ ...question('Weather in Paris?'), tools: [WEATHER_TOOL] });
    await anthropic.messages.stream({ ...question('Weather in Paris?'), tools: [WEATHER_TOOL] }).finalMessage();

    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      const recorded = JSON.stringify(span.attributes);
      for (const secret of ['Weather in Paris', 'Answer briefly', 'get_weather', 'Paris, France']) {
        assert.ok(!recorded.includes(secret), `${secret} in ${recorded}`);
      }
      assert.equal(span.attributes['gen_ai.response.model'], SNAPSHOT);
      assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['tool_use']);
      assert.equal(span.attributes['mlflow.chat.tokenUsage'], '{"input_tokens":12,"output_tokens":8,"total_tokens":20}');
    }
  });

  it("with contentAttributes 'gen_ai', records content once, as GenAI messages and system instructions", async () => {
    reply = { toolUses: [TOOL_USES[0]!] };
    await client({ contentAttributes: 'gen_ai' }).messages.create({
      ...question('Weather in Paris?'),
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: 'sunny' }] },
      ],
      tools: [WEATHER_TOOL],
    });
    const span = onlySpan();
    for (const key of ['mlflow.spanInputs', 'mlflow.spanOutputs', 'mlflow.chat.tools', 'mlflow.message.format']) {
      assert.equal(span.attributes[key], undefined, key);
    }
    assert.deepEqual(json(span, 'gen_ai.system_instructions'), [{ type: 'text', content: 'Answer briefly.' }]);
    assert.deepEqual(json(span, 'gen_ai.input.messages'), [
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'toolu_0', name: 'get_weather', arguments: {} }] },
      { role: 'user', parts: [{ type: 'tool_call_response', id: 'toolu_0', response: 'sunny' }] },
    ]);
    assert.deepEqual(json(span, 'gen_ai.output.messages'), [
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'toolu_paris', name: 'get_weather', arguments: { city: 'Paris, France' } }],
        finish_reason: 'tool_use',
      },
    ]);
    assert.deepEqual(json(span, 'gen_ai.tool.definitions'), [WEATHER_TOOL]);
  });

  it('records the request as the SDK sent it, serialised once, through a derived client and the beta resource too', async () => {
    const { body, serialisations } = countedSerialisations(question('Hi'));
    await client().messages.create(body);
    assert.equal(serialisations(), 1);
    assert.deepEqual(json(onlySpan(), 'mlflow.spanInputs'), question('Hi'));

    exporter.reset();
    const again = countedSerialisations(question('Hi'));
    await client().withOptions({ timeout: 5_000 }).withOptions({ maxRetries: 0 }).messages.create(again.body);
    assert.equal(again.serialisations(), 1, 'a client derived with withOptions() serialises once too');
    assert.deepEqual(json(onlySpan(), 'mlflow.spanInputs'), question('Hi'));

    exporter.reset();
    fake.requests.length = 0;
    await client().beta.messages.create({ ...question('Hi'), betas: ['context-management-2025-06-27'] });
    assert.deepEqual(json(onlySpan(), 'mlflow.spanInputs'), fake.requests[0]?.body, 'as sent');
    assert.deepEqual(fake.requests[0]?.body, question('Hi'), 'the betas went as a header');
  });

  it('takes no other request the client sends during the call for its inputs (a credential exchange holds secrets)', async () => {
    const exchange = JSON.stringify({ grant_type: 'client_credentials', client_assertion: 'eyJhbGciOi.secret-assertion' });
    class ExchangingClient extends Anthropic {
      protected override async prepareRequest(): Promise<void> {
        // As a credential exchange does before the call's own request: through the client's fetch, in the call's context.
        await (this as unknown as { fetch: (url: string, init: RequestInit) => Promise<Response> }).fetch(`${fake.url}/v1/oauth/token`, {
          method: 'POST',
          body: exchange,
        });
      }
    }
    const anthropic = instrumentAnthropic(new ExchangingClient({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0 }), {
      tracer,
      provider: 'anthropic',
      captureContent: true,
      contentAttributes: 'mlflow',
    });
    await anthropic.messages.create(question('Hi'));
    const span = onlySpan();
    assert.deepEqual(json(span, 'mlflow.spanInputs'), question('Hi'));
    assert.ok(!JSON.stringify(span.attributes).includes('secret-assertion'));
  });

  it('records the request of a call never sent at its end', async () => {
    await assert.rejects(client().messages.create(question('Never sent'), { signal: AbortSignal.abort() }), APIUserAbortError);
    assert.equal(fake.requests.length, 0);
    assert.deepEqual(json(onlySpan(), 'mlflow.spanInputs'), question('Never sent'));
  });

  it('never puts the API key on a span, though every request sends it', async () => {
    const anthropic = client();
    await anthropic.messages.create(question('Hi'));
    await collect(await anthropic.messages.create({ ...question('Hi'), stream: true }));
    reply = { status: 401 };
    await assert.rejects(anthropic.messages.create(question('Hi')));

    // This SDK sends the key as a bearer token; older ones as x-api-key.
    assert.ok(fake.requests.every((request) => `${request.headers['x-api-key']} ${request.headers.authorization}`.includes(API_KEY)));
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 3);
    for (const span of spans) {
      const recorded = JSON.stringify([span.name, span.attributes, span.events, span.status]);
      assert.ok(!recorded.includes(API_KEY.slice(7)), `API key on span ${span.name}`);
    }
  });

  it('instruments a client once, however often it is asked', async () => {
    const anthropic = client();
    instrumentAnthropic(anthropic, { tracer, provider: 'anthropic', captureContent: true, contentAttributes: 'mlflow' });
    await anthropic.messages.create(question('Hi'));
    onlySpan();
  });
});

describe('instrumentAnthropic: a call the sampler leaves out', () => {
  it('is the call as the caller made it: no span, and the request serialised once, for the wire', async () => {
    const sampledOut = new TracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const anthropic = instrumentAnthropic(new Anthropic({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0 }), {
      tracer: sampledOut.getTracer('sampled-out'),
      provider: 'anthropic',
      captureContent: true,
      contentAttributes: 'mlflow',
    });
    const { body, serialisations } = countedSerialisations(question('Hi'));
    const promise = anthropic.messages.create(body);
    assert.ok(promise instanceof APIPromise);
    const message = await promise;
    assert.equal(message.role, 'assistant');
    assert.equal(serialisations(), 1);
    assert.deepEqual(exporter.getFinishedSpans(), []);
  });
});
