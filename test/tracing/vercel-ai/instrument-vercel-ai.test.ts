import assert from 'node:assert/strict';
import { encodeLocalTrace } from '../../../src/destination/encode-trace.ts';
import { after, afterEach, before, describe, it } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import * as ai from 'ai';
import { MockEmbeddingModelV4, MockLanguageModelV4, MockRerankingModelV4 } from 'ai/test';
import { z } from 'zod';
import { toMlflowSpan } from '../../../src/relay/translate-span.ts';
import { otlpSender } from '../../../src/destination/senders/otlp-sender.ts';
import { createMlflowHttp } from '../../../src/mlflow/http.ts';
import { asRelayed } from '../../fakes/readable-spans.ts';
import { instrumentVercelAi } from '../../../src/tracing/vercel-ai/instrument-vercel-ai.ts';
import { MlflowTelemetry } from '../../../src/tracing/vercel-ai/mlflow-telemetry.ts';
import { createAuthProvider } from '../../../src/workspace-auth/auth.ts';
import { startFakeMlflow } from '../../fakes/fake-mlflow.ts';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIRequest, type FakeReply } from '../../fakes/fake-openai.ts';
import { jsonAttribute as json, memoryTracer } from '../span-fixtures.ts';

const MODEL = 'gpt-4o-mini';
const QUESTION = 'What is the weather in Paris?';

const { tracer, finished, forget } = memoryTracer('vercel-ai-test');
let fake: FakeOpenAI;
let script: (request: FakeOpenAIRequest) => FakeReply = () => ({});

const weather = ai.tool({
  description: 'Current weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, celsius: 18 }),
});

function model() {
  return createOpenAI({ apiKey: 'sk-test-vercel', baseURL: `${fake.url}/v1` }).chat(MODEL);
}

/** The fake asks for the tool first, then answers once it has the tool's result. */
function toolThenAnswer(request: FakeOpenAIRequest): FakeReply {
  const answered = request.body.messages.some((message) => (message as { role: string }).role === 'tool');
  return answered
    ? { content: 'It is 18 °C in Paris.', usage: { prompt_tokens: 40, completion_tokens: 9 } }
    : {
        toolCalls: [{ id: 'call_paris', name: 'weather', arguments: '{"city":"Paris"}' }],
        usage: { prompt_tokens: 30, completion_tokens: 12 },
      };
}

function spans(): ReadableSpan[] {
  return finished();
}

function named(name: string): ReadableSpan[] {
  return spans().filter((span) => span.name === name);
}

function one(name: string): ReadableSpan {
  const found = named(name);
  assert.equal(
    found.length,
    1,
    `one ${name} span among ${spans()
      .map((span) => span.name)
      .join(', ')}`,
  );
  return found[0]!;
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

function usageTotal(all: ReadableSpan[]): number {
  return all.reduce((sum, span) => {
    const usage = span.attributes['mlflow.chat.tokenUsage'];
    return sum + (typeof usage === 'string' ? (JSON.parse(usage) as { total_tokens: number }).total_tokens : 0);
  }, 0);
}

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  fake = await startFakeOpenAI({ script: (request) => script(request) });
  assert.equal(instrumentVercelAi(ai, { tracer, captureContent: true }), ai, 'AI SDK 7: the exports stay as they are');
});
afterEach(() => {
  forget();
  script = () => ({});
});
after(async () => {
  context.disable();
  await fake.close();
});

describe('the AI SDK traced as MLflow shows it', () => {
  it('generateText with a tool: a CHAIN span under the active one, a CHAT_MODEL span per model call and a TOOL span', async () => {
    script = toolThenAnswer;
    const outer = tracer.startSpan('POST /ask');
    const result = await context.with(trace.setSpan(context.active(), outer), () =>
      ai.generateText({ model: model(), prompt: QUESTION, tools: { weather }, stopWhen: ai.isStepCount(3) }),
    );
    outer.end();
    assert.equal(result.text, 'It is 18 °C in Paris.');

    const root = one('ai.generateText');
    assert.equal(parentOf(root), outer.spanContext().spanId, 'under the span active when the program called');
    assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
    assert.deepEqual(json(root, 'mlflow.spanInputs'), { messages: [{ role: 'user', content: QUESTION }] });
    assert.deepEqual(json(root, 'mlflow.spanOutputs'), {
      choices: [{ index: 0, message: { role: 'assistant', content: 'It is 18 °C in Paris.' }, finish_reason: 'stop' }],
    });
    assert.equal(root.attributes['mlflow.chat.tokenUsage'], undefined, 'the run total is not counted again');
    assert.equal(root.status.code, SpanStatusCode.OK);

    const chats = named(`chat ${MODEL}`).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    assert.equal(chats.length, 2);
    for (const chat of chats) {
      assert.equal(parentOf(chat), root.spanContext().spanId);
      assert.equal(chat.attributes['mlflow.spanType'], 'CHAT_MODEL');
      assert.equal(chat.attributes['mlflow.llm.model'], MODEL);
      assert.equal(chat.attributes['mlflow.llm.provider'], 'openai');
      assert.equal(chat.attributes['mlflow.message.format'], 'openai');
    }
    const [first, second] = chats as [ReadableSpan, ReadableSpan];
    assert.deepEqual(json(first, 'mlflow.spanOutputs'), {
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
          },
          finish_reason: 'tool-calls',
        },
      ],
    });
    assert.deepEqual(json(first, 'mlflow.chat.tokenUsage'), { input_tokens: 30, output_tokens: 12, total_tokens: 42 });
    assert.deepEqual(json(first, 'mlflow.chat.tools'), [
      {
        type: 'function',
        function: {
          name: 'weather',
          description: 'Current weather in a city',
          parameters: (json(first, 'mlflow.chat.tools') as { function: { parameters: unknown } }[])[0]!.function.parameters,
        },
      },
    ]);
    const secondInputs = json(second, 'mlflow.spanInputs') as { messages: { role: string; tool_call_id?: string; content: unknown }[] };
    assert.deepEqual(
      secondInputs.messages.map((message) => message.role),
      ['user', 'assistant', 'tool'],
      'the second call sees the tool result',
    );
    assert.deepEqual(secondInputs.messages[2], { role: 'tool', content: '{"city":"Paris","celsius":18}', tool_call_id: 'call_paris' });
    assert.deepEqual(json(second, 'mlflow.chat.tokenUsage'), { input_tokens: 40, output_tokens: 9, total_tokens: 49 });

    const tool = one('weather');
    assert.equal(parentOf(tool), root.spanContext().spanId);
    assert.equal(tool.attributes['mlflow.spanType'], 'TOOL');
    assert.deepEqual(json(tool, 'mlflow.spanInputs'), { city: 'Paris' });
    assert.deepEqual(json(tool, 'mlflow.spanOutputs'), { city: 'Paris', celsius: 18 });
    assert.equal(usageTotal(spans()), 42 + 49, 'token usage counted once per model call, nowhere else');
  });

  it('streamText: the model call ends with the streamed answer and its usage once the program has read the stream', async () => {
    script = () => ({ content: 'Streaming works.', usage: { prompt_tokens: 8, completion_tokens: 3 } });
    const result = ai.streamText({ model: model(), instructions: 'Be brief.', prompt: 'Say something.' });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    assert.equal(text, 'Streaming works.');
    await result.consumeStream();

    const root = one('ai.streamText');
    const chat = one(`chat ${MODEL}`);
    assert.equal(parentOf(chat), root.spanContext().spanId);
    assert.deepEqual(json(chat, 'mlflow.spanInputs'), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say something.' },
      ],
    });
    assert.deepEqual(json(chat, 'mlflow.spanOutputs'), {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Streaming works.' }, finish_reason: 'stop' }],
    });
    assert.deepEqual(json(chat, 'mlflow.chat.tokenUsage'), { input_tokens: 8, output_tokens: 3, total_tokens: 11 });
    assert.equal(root.status.code, SpanStatusCode.OK);
  });

  it('a failing provider ends the model call and the operation as ERROR', async () => {
    script = () => ({ status: 500 });
    await assert.rejects(ai.generateText({ model: model(), prompt: QUESTION, maxRetries: 0 }));
    const root = one('ai.generateText');
    const chat = one(`chat ${MODEL}`);
    assert.equal(root.status.code, SpanStatusCode.ERROR);
    assert.equal(chat.status.code, SpanStatusCode.ERROR);
    assert.ok(chat.events.some((event) => event.name === 'exception'));
  });

  it('embedMany: an EMBEDDING span with one EMBEDDING child per model call, usage on the children, no vectors', async () => {
    const embedder = new MockEmbeddingModelV4({
      provider: 'mock.embedding',
      modelId: 'embed-small',
      maxEmbeddingsPerCall: 2,
      doEmbed: async ({ values }) => ({
        embeddings: values.map(() => [0.1, 0.2, 0.3]),
        usage: { tokens: values.length * 5 },
        warnings: [],
      }),
    });
    const result = await ai.embedMany({ model: embedder, values: ['a', 'b', 'c'] });
    assert.equal(result.embeddings.length, 3);
    const root = one('ai.embedMany');
    assert.equal(root.attributes['mlflow.spanType'], 'EMBEDDING');
    assert.deepEqual(json(root, 'mlflow.spanInputs'), { value: ['a', 'b', 'c'] });
    assert.deepEqual(json(root, 'mlflow.spanOutputs'), { embeddings: 3, dimensions: 3 });
    const calls = named('embeddings embed-small');
    assert.equal(calls.length, 2);
    for (const call of calls) assert.equal(parentOf(call), root.spanContext().spanId);
    assert.equal(usageTotal(spans()), 15);
  });

  it('a call that opts out of telemetry makes no span', async () => {
    await ai.generateText({ model: model(), prompt: QUESTION, telemetry: { isEnabled: false } });
    assert.deepEqual(spans(), []);
  });

  it('with content capture off, spans keep types, models and usage but no prompt or answer', async () => {
    const quiet = new MlflowTelemetry({ tracer, captureContent: false });
    await ai.generateText({ model: model(), prompt: QUESTION, telemetry: { integrations: [quiet] } });
    for (const span of spans()) {
      assert.equal(span.attributes['mlflow.spanInputs'], undefined, span.name);
      assert.equal(span.attributes['mlflow.spanOutputs'], undefined, span.name);
    }
    assert.equal(one(`chat ${MODEL}`).attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.equal(usageTotal(spans()), 18);
  });

  it('a call that turns recording off (recordInputs / recordOutputs false) is respected', async () => {
    await ai.generateText({ model: model(), prompt: QUESTION, telemetry: { recordInputs: false, recordOutputs: false } });
    assert.ok(spans().length >= 2);
    assert.ok(
      spans().every((span) => span.attributes['mlflow.spanInputs'] === undefined && span.attributes['mlflow.spanOutputs'] === undefined),
    );
  });

  it('through the relay translation into MLflow: previews, span types and one token total', async () => {
    script = toolThenAnswer;
    await ai.generateText({ model: model(), prompt: QUESTION, tools: { weather }, stopWhen: ai.isStepCount(3) });
    const local = asRelayed(spans()).map(toMlflowSpan);
    const server = await startFakeMlflow({ version: '3.6.0' });
    try {
      const experimentId = server.createExperiment('vercel-ai');
      const sender = otlpSender({
        description: 'fake MLflow',
        http: createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }, { host: server.url }) }),
        path: '/v1/traces',
        headers: { 'x-mlflow-experiment-id': experimentId },
        encoding: 'protobuf',
        gzip: false,
      });
      const hex = local[0]!.traceId;
      const outcome = await sender.send([{ hex, traceId: `tr-${hex}`, otlp: encodeLocalTrace(local).otlp, attempts: 0 }]);
      assert.equal(outcome.kind, 'delivered', JSON.stringify(outcome));
      const [stored] = server.store.traces(experimentId);
      assert.ok(stored);
      assert.equal(stored.info.request_preview, QUESTION);
      assert.equal(stored.info.response_preview, 'It is 18 °C in Paris.');
      assert.equal(JSON.parse(stored.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 42 + 49);
      assert.deepEqual(stored.spans.map((span) => span.attributes['mlflow.spanType']).sort(), [
        'CHAIN',
        'CHAT_MODEL',
        'CHAT_MODEL',
        'TOOL',
      ]);
    } finally {
      await server.close();
    }
  });

  it('work done during a model call or inside a tool runs under its span: provider requests, nested AI SDK calls', async () => {
    const activeDuring: Record<string, string | undefined> = {};
    const answering = (text: string) =>
      new MockLanguageModelV4({
        modelId: 'mock-model',
        doGenerate: async () => {
          activeDuring[text] = trace.getActiveSpan()?.spanContext().spanId;
          return {
            content: [{ type: 'text', text }],
            finishReason: { unified: 'stop', raw: 'stop' },
            usage: {
              inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
              outputTokens: { total: 2, text: 2, reasoning: undefined },
            },
            warnings: [],
          };
        },
      });
    const summarise = ai.tool({
      inputSchema: z.object({ topic: z.string() }),
      execute: async ({ topic }) => (await ai.generateText({ model: answering('inner'), prompt: `Summarise ${topic}` })).text,
    });
    script = () => ({ toolCalls: [{ id: 'call_sum', name: 'summarise', arguments: '{"topic":"MLflow"}' }] });
    await ai.generateText({ model: model(), prompt: 'Summarise MLflow.', tools: { summarise } });

    const tool = one('summarise');
    const nested = named('ai.generateText').find((span) => parentOf(span) === tool.spanContext().spanId);
    assert.ok(nested, 'the AI SDK call made inside the tool nests under the TOOL span');
    const innerChat = one('chat mock-model');
    assert.equal(parentOf(innerChat), nested.spanContext().spanId);
    assert.equal(activeDuring.inner, innerChat.spanContext().spanId, 'the provider call ran with its chat span active');
  });

  it('generateObject: a CHAIN with the object out, around a CHAT_MODEL call with the JSON the model wrote', async () => {
    script = () => ({ content: '{"city":"Paris","country":"France"}', usage: { prompt_tokens: 20, completion_tokens: 8 } });
    const { object } = await ai.generateObject({
      model: model(),
      schema: z.object({ city: z.string(), country: z.string() }),
      prompt: 'Where is the Eiffel Tower?',
    });
    assert.deepEqual(object, { city: 'Paris', country: 'France' });
    const root = one('ai.generateObject');
    assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
    assert.deepEqual(json(root, 'mlflow.spanInputs'), { messages: [{ role: 'user', content: 'Where is the Eiffel Tower?' }] });
    assert.deepEqual(json(root, 'mlflow.spanOutputs'), { city: 'Paris', country: 'France' });
    const chat = one(`chat ${MODEL}`);
    assert.equal(parentOf(chat), root.spanContext().spanId);
    assert.equal(chat.attributes['mlflow.spanType'], 'CHAT_MODEL');
    const outputs = json(chat, 'mlflow.spanOutputs') as { choices: { message: { content: string } }[] };
    assert.equal(outputs.choices[0]?.message.content, '{"city":"Paris","country":"France"}');
    assert.equal(usageTotal(spans()), 28);
  });

  it('a streamText the program aborts mid-answer ends its model call and operation as ERROR', async () => {
    script = () => ({ content: 'A long answer that never finishes.', interrupt: { afterChunks: 2, with: 'stall' } });
    const controller = new AbortController();
    const result = ai.streamText({ model: model(), prompt: QUESTION, abortSignal: controller.signal });
    for await (const piece of result.textStream) {
      assert.ok(piece.length > 0);
      controller.abort();
    }
    await result.consumeStream();
    const root = one('ai.streamText');
    const chat = one(`chat ${MODEL}`);
    assert.equal(root.status.code, SpanStatusCode.ERROR);
    assert.equal(chat.status.code, SpanStatusCode.ERROR);
  });

  it('rerank: a RERANKER span, with no chat shape forced on it', async () => {
    const reranker = new MockRerankingModelV4({
      modelId: 'rerank-small',
      doRerank: async () => ({
        ranking: [
          { index: 1, relevanceScore: 0.9 },
          { index: 0, relevanceScore: 0.2 },
        ],
      }),
    });
    const { ranking } = await ai.rerank({ model: reranker, query: 'tracing', documents: ['metrics', 'traces'] });
    assert.equal(ranking[0]?.document, 'traces');
    const span = one('ai.rerank');
    assert.equal(span.attributes['mlflow.spanType'], 'RERANKER');
    assert.equal(span.attributes['mlflow.spanInputs'], undefined);
    assert.equal(span.status.code, SpanStatusCode.OK);
  });

  it('streams the program never reads are ended, as abandoned, once too many operations are open', async () => {
    script = (request) =>
      JSON.stringify(request.body.messages).includes('never read')
        ? { content: 'An answer nobody reads to the end.', interrupt: { afterChunks: 2, with: 'stall' } }
        : { content: 'Done.' };
    const telemetry = { integrations: [new MlflowTelemetry({ tracer, captureContent: true, maxOpenOperations: 1 })] };
    const stop = new AbortController();
    const unread = ai.streamText({ model: model(), prompt: 'never read', abortSignal: stop.signal, telemetry });
    // One piece read, then no more: the program neither reads on nor cancels.
    const first = await unread.textStream[Symbol.asyncIterator]().next();
    assert.equal(first.done, false, 'the stream has begun: its operation and model call are open');
    await ai.generateText({ model: model(), prompt: 'next', telemetry });
    const abandoned = one('ai.streamText');
    assert.ok(abandoned.events.some((event) => event.name === 'otel_mlflow.operation.abandoned'));
    const chats = named(`chat ${MODEL}`);
    assert.equal(chats.filter((span) => parentOf(span) === abandoned.spanContext().spanId).length, 1, 'its model call ended with it');
    assert.equal(one('ai.generateText').status.code, SpanStatusCode.OK, 'the new operation goes on as usual');
    stop.abort();
  });
});
