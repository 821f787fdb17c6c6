import assert from 'node:assert/strict';
import { encodeLocalTrace } from '../../../src/destination/encode-trace.ts';
import { after, afterEach, before, describe, it } from 'node:test';
import * as callbacksManager from '@langchain/core/callbacks/manager';
import { Document } from '@langchain/core/documents';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { RunnableLambda } from '@langchain/core/runnables';
import { tool } from '@langchain/core/tools';
import { FakeRetriever } from '@langchain/core/utils/testing';
import { ChatOpenAI } from '@langchain/openai';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { z } from 'zod';
import { otlpSender } from '../../../src/destination/senders/otlp-sender.ts';
import { createMlflowHttp } from '../../../src/mlflow/http.ts';
import { toMlflowSpan } from '../../../src/relay/translate-span.ts';
import { asRelayed } from '../../fakes/readable-spans.ts';
import { createAuthProvider } from '../../../src/workspace-auth/auth.ts';
import { startFakeMlflow } from '../../fakes/fake-mlflow.ts';
import { installLangChainHandler } from '../../../src/tracing/langchain/install-langchain.ts';
import { MlflowCallbackHandler } from '../../../src/tracing/langchain/mlflow-callback-handler.ts';
import { startFakeOpenAI, type FakeOpenAI, type FakeReply } from '../../fakes/fake-openai.ts';
import { jsonAttribute as json, memoryTracer } from '../span-fixtures.ts';

const MODEL = 'gpt-4o-mini';
const QUESTION = 'What is MLflow?';
const ANSWER = 'An open-source platform for the machine learning lifecycle.';

const { tracer, finished, forget } = memoryTracer('langchain-test');
let fake: FakeOpenAI;
let reply: FakeReply = {};

function chatModel(): ChatOpenAI {
  return new ChatOpenAI({ model: MODEL, apiKey: 'sk-test-langchain', maxRetries: 0, configuration: { baseURL: `${fake.url}/v1` } });
}

function questionChain() {
  const prompt = ChatPromptTemplate.fromMessages([
    ['system', 'Answer briefly.'],
    ['human', '{question}'],
  ]);
  return prompt.pipe(chatModel()).pipe(new StringOutputParser());
}

function spans(): ReadableSpan[] {
  return finished();
}

function one(name: string): ReadableSpan {
  const found = spans().filter((span) => span.name === name);
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

function usageTotal(): number {
  return spans().reduce((sum, span) => {
    const usage = span.attributes['mlflow.chat.tokenUsage'];
    return sum + (typeof usage === 'string' ? (JSON.parse(usage) as { total_tokens: number }).total_tokens : 0);
  }, 0);
}

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  fake = await startFakeOpenAI({ script: () => reply });
  assert.equal(installLangChainHandler(callbacksManager, { tracer, captureContent: true }), true);
  assert.equal(installLangChainHandler(callbacksManager, { tracer, captureContent: true }), true, 'a second install changes nothing');
});
afterEach(() => {
  forget();
  reply = {};
});
after(async () => {
  context.disable();
  await fake.close();
});

describe('LangChain runs traced as MLflow shows them', () => {
  it('a prompt | chat model | parser chain: a CHAIN under the active span, with the model call, prompt and parser inside', async () => {
    reply = { content: ANSWER, usage: { prompt_tokens: 14, completion_tokens: 11 } };
    const outer = tracer.startSpan('POST /ask');
    const answer = await context.with(trace.setSpan(context.active(), outer), () => questionChain().invoke({ question: QUESTION }));
    outer.end();
    assert.equal(answer, ANSWER);

    const root = one('RunnableSequence');
    assert.equal(parentOf(root), outer.spanContext().spanId);
    assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
    assert.deepEqual(json(root, 'mlflow.spanInputs'), { question: QUESTION });
    assert.equal(json(root, 'mlflow.spanOutputs'), ANSWER);
    assert.equal(root.status.code, SpanStatusCode.OK);

    const prompt = one('ChatPromptTemplate');
    assert.equal(parentOf(prompt), root.spanContext().spanId);
    assert.equal(prompt.attributes['mlflow.spanType'], 'CHAIN');
    assert.equal(one('StrOutputParser').attributes['mlflow.spanType'], 'PARSER');

    const chat = one('ChatOpenAI');
    assert.equal(parentOf(chat), root.spanContext().spanId);
    assert.equal(chat.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.deepEqual(json(chat, 'mlflow.spanInputs'), {
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: QUESTION },
      ],
    });
    assert.deepEqual(json(chat, 'mlflow.spanOutputs'), {
      choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
    });
    assert.equal(chat.attributes['mlflow.message.format'], 'openai');
    assert.deepEqual(json(chat, 'mlflow.chat.tokenUsage'), { input_tokens: 14, output_tokens: 11, total_tokens: 25 });
    assert.equal(chat.attributes['mlflow.llm.model'], MODEL);
    assert.equal(chat.attributes['mlflow.llm.provider'], 'openai');
    assert.equal(usageTotal(), 25, 'token usage once per trace: on the model call only');
  });

  it('a chat model with tools: the tool calls in its answer, the tools offered, and a TOOL span for the tool run', async () => {
    reply = { toolCalls: [{ id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' }] };
    const getWeather = tool(async ({ city }: { city: string }) => `It is 3 °C in ${city}.`, {
      name: 'get_weather',
      description: 'Current weather in a city',
      schema: z.object({ city: z.string() }),
    });
    const message = await chatModel().bindTools([getWeather]).invoke('Weather in Oslo?');
    const [call] = message.tool_calls ?? [];
    assert.ok(call);
    const result = await getWeather.invoke(call);
    assert.equal(result.content, 'It is 3 °C in Oslo.');

    const chat = one('ChatOpenAI');
    const outputs = json(chat, 'mlflow.spanOutputs') as { choices: { message: unknown; finish_reason: string }[] };
    assert.deepEqual(outputs.choices[0]?.message, {
      role: 'assistant',
      content: '',
      tool_calls: [{ id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
    });
    const [offered] = json(chat, 'mlflow.chat.tools') as { type: string; function: { name: string } }[];
    assert.equal(offered?.function.name, 'get_weather');

    const toolSpan = one('get_weather');
    assert.equal(toolSpan.attributes['mlflow.spanType'], 'TOOL');
    assert.equal(toolSpan.attributes['gen_ai.tool.call.id'], 'call_oslo');
    assert.deepEqual(json(toolSpan, 'mlflow.spanInputs'), { city: 'Oslo' });
    assert.equal(json(toolSpan, 'mlflow.spanOutputs'), 'It is 3 °C in Oslo.');
  });

  it('a streamed chat model ends its span with the whole answer and its usage once the stream is read', async () => {
    reply = { content: 'Streamed answer.', usage: { prompt_tokens: 6, completion_tokens: 3 } };
    let text = '';
    for await (const chunk of await chatModel().stream('Say something.')) text += chunk.content;
    assert.equal(text, 'Streamed answer.');
    const chat = one('ChatOpenAI');
    assert.equal(chat.status.code, SpanStatusCode.OK);
    const outputs = json(chat, 'mlflow.spanOutputs') as { choices: { message: { content: string } }[] };
    assert.equal(outputs.choices[0]?.message.content, 'Streamed answer.');
    assert.deepEqual(json(chat, 'mlflow.chat.tokenUsage'), { input_tokens: 6, output_tokens: 3, total_tokens: 9 });
  });

  it('a failing model ends its span and its chain as ERROR with the exception', async () => {
    reply = { status: 500 };
    await assert.rejects(questionChain().invoke({ question: QUESTION }));
    const chat = one('ChatOpenAI');
    const root = one('RunnableSequence');
    assert.equal(chat.status.code, SpanStatusCode.ERROR);
    assert.equal(root.status.code, SpanStatusCode.ERROR);
    assert.ok(chat.events.some((event) => event.name === 'exception'));
    assert.equal(usageTotal(), 0);
  });

  it('a retriever is a RETRIEVER span with the query in and the documents out', async () => {
    const retriever = new FakeRetriever({
      output: [new Document({ pageContent: 'MLflow tracks experiments.', metadata: { source: 'docs' }, id: 'd1' })],
    });
    // The config passed on, as LangChain documents for runs started inside a lambda.
    const rag = RunnableLambda.from(async (query: string, config) =>
      (await retriever.invoke(query, config)).map((doc) => doc.pageContent).join('\n'),
    ).withConfig({ runName: 'rag' });
    await rag.invoke('what is mlflow');
    const retrieval = one('FakeRetriever');
    assert.equal(parentOf(retrieval), one('rag').spanContext().spanId, 'a run started inside a lambda nests under it');
    assert.equal(retrieval.attributes['mlflow.spanType'], 'RETRIEVER');
    assert.deepEqual(json(retrieval, 'mlflow.spanInputs'), { query: 'what is mlflow' });
    assert.deepEqual(json(retrieval, 'mlflow.spanOutputs'), {
      documents: [{ page_content: 'MLflow tracks experiments.', metadata: { source: 'docs' }, id: 'd1' }],
    });
  });

  it("the program's own callbacks still run, and a handler of ours it passes itself is not doubled", async () => {
    reply = { content: ANSWER };
    const seen: string[] = [];
    const quiet = new MlflowCallbackHandler({ tracer, captureContent: false });
    await questionChain().invoke(
      { question: QUESTION },
      { callbacks: [quiet, { handleChainStart: (_chain: unknown, _inputs: unknown, runId: string) => void seen.push(runId) }] },
    );
    assert.ok(seen.length >= 1, "the program's handler was called");
    assert.equal(spans().filter((span) => span.name === 'ChatOpenAI').length, 1);
    for (const span of spans()) {
      assert.equal(span.attributes['mlflow.spanInputs'], undefined, `${span.name}: no content with capture off`);
      assert.equal(span.attributes['mlflow.spanOutputs'], undefined, `${span.name}: no content with capture off`);
    }
    assert.equal(usageTotal(), 18, 'usage is kept with capture off');
  });

  it('runs LangChain never ends (a stream left unread) are ended as abandoned once too many are open, their children with them', () => {
    // Called as LangChain calls it, for a chain whose model stream the program stopped reading: no end ever comes.
    const handler = new MlflowCallbackHandler({ tracer, captureContent: true, maxOpenRuns: 2 });
    const chain = { lc: 1, type: 'not_implemented', id: ['langchain_core', 'runnables', 'RunnableSequence'] };
    const model = { lc: 1, type: 'constructor', id: ['langchain', 'chat_models', 'openai', 'ChatOpenAI'] };
    handler.handleChainStart(chain, { question: QUESTION }, 'run-chain');
    handler.handleChatModelStart(model, [[]], 'run-model', 'run-chain');
    assert.deepEqual(spans(), []);
    handler.handleChainStart(chain, { question: 'next' }, 'run-next');
    const [abandonedModel, abandonedChain] = spans();
    assert.equal(abandonedChain?.name, 'RunnableSequence');
    assert.ok(abandonedChain?.events.some((event) => event.name === 'otel_mlflow.run.abandoned'));
    assert.equal(abandonedModel?.name, 'ChatOpenAI');
    assert.equal(parentOf(abandonedModel!), abandonedChain?.spanContext().spanId);
    assert.ok(abandonedModel?.events.some((event) => event.name === 'otel_mlflow.run.ended_with_parent'));
    handler.handleChainEnd({ output: 'done' }, 'run-next');
    assert.equal(spans().length, 3, 'the new run goes on as usual');
  });

  it('runs the sampler leaves out record nothing, and their inputs and outputs are never read', () => {
    const sampledOut = memoryTracer('langchain-sampled-out', new AlwaysOffSampler());
    const handler = new MlflowCallbackHandler({ tracer: sampledOut.tracer, captureContent: true });
    let reads = 0;
    const counted = (value: string) => ({
      get text() {
        reads++;
        return value;
      },
    });
    const chain = { lc: 1, type: 'not_implemented', id: ['langchain_core', 'runnables', 'RunnableSequence'] };
    const retriever = { lc: 1, type: 'not_implemented', id: ['langchain_core', 'retrievers', 'FakeRetriever'] };
    handler.handleChainStart(chain, counted(QUESTION), 'run-chain');
    handler.handleRetrieverStart(retriever, QUESTION, 'run-retriever', 'run-chain');
    handler.handleRetrieverEnd([{ pageContent: 'MLflow', metadata: counted('source') }], 'run-retriever');
    handler.handleChainEnd(counted(ANSWER), 'run-chain');
    assert.equal(reads, 0);
    assert.deepEqual(sampledOut.finished(), []);
  });

  it('MLflow shows the trace with its span types, the question as request preview and one token total', async () => {
    reply = { content: ANSWER, usage: { prompt_tokens: 14, completion_tokens: 11 } };
    await questionChain().invoke({ question: QUESTION });
    const local = asRelayed(spans()).map(toMlflowSpan);
    const server = await startFakeMlflow({ version: '3.6.0' });
    try {
      const experimentId = server.createExperiment('langchain');
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
      assert.ok(stored.info.request_preview?.includes(QUESTION), String(stored.info.request_preview));
      assert.ok(stored.info.response_preview?.includes(ANSWER), String(stored.info.response_preview));
      assert.equal(JSON.parse(stored.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 25);
      assert.deepEqual(stored.spans.map((span) => span.attributes['mlflow.spanType']).sort(), ['CHAIN', 'CHAIN', 'CHAT_MODEL', 'PARSER']);
    } finally {
      await server.close();
    }
  });

  it('a stream that fails mid-answer ends the chat model span as ERROR', async () => {
    reply = { content: 'one two three four five', interrupt: { afterChunks: 2, with: 'error' } };
    await assert.rejects(async () => {
      for await (const chunk of await chatModel().stream('Count.')) assert.ok(chunk);
    });
    const chat = one('ChatOpenAI');
    assert.equal(chat.status.code, SpanStatusCode.ERROR);
    assert.ok(chat.events.some((event) => event.name === 'exception'));
  });
});
