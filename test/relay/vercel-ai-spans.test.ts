import assert from 'node:assert/strict';
import { encodeLocalTrace } from '../../src/destination/encode-trace.ts';
import { after, before, describe, it } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { LegacyOpenTelemetry, OpenTelemetry } from '@ai-sdk/otel';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import * as ai from 'ai';
import { MockEmbeddingModelV4 } from 'ai/test';
import { z } from 'zod';
import { otlpSender } from '../../src/destination/senders/otlp-sender.ts';
import { createMlflowHttp } from '../../src/mlflow/http.ts';
import { toMlflowSpan } from '../../src/relay/translate-span.ts';
import type { LocalSpan } from '../../src/spans/local-span.ts';
import { asRelayed } from '../fakes/readable-spans.ts';
import { withoutContent } from '../../src/tracing/content-filter.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { MLFLOW_VERSIONS, startFakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.ts';

const QUESTION = 'What is the weather in Paris?';
const ANSWER = 'Sunny, 18 °C.';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let fake: FakeOpenAI;

/** What an app that registered the AI SDK's own integration sends: LegacyOpenTelemetry (or enabled experimental_telemetry up to AI SDK 6) sends. */
async function legacyAgentTrace(integration: 'legacy' | 'genai' = 'legacy'): Promise<LocalSpan[]> {
  exporter.reset();
  const model = createOpenAI({ apiKey: 'sk-test-legacy', baseURL: `${fake.url}/v1` }).chat('gpt-4o-mini');
  const weather = ai.tool({
    description: 'Current weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, celsius: 18 }),
  });
  await ai.generateText({
    model,
    instructions: 'Be brief.',
    prompt: QUESTION,
    tools: { weather },
    stopWhen: ai.isStepCount(3),
    telemetry: {
      integrations: [
        integration === 'legacy'
          ? new LegacyOpenTelemetry({ tracer: provider.getTracer('ai') })
          : new OpenTelemetry({ tracer: provider.getTracer('ai') }),
      ],
    },
  });
  return asRelayed(exporter.getFinishedSpans());
}

function json(span: LocalSpan, key: string): unknown {
  const value = span.attributes[key];
  assert.equal(typeof value, 'string', `${span.name}: ${key} is JSON text`);
  return JSON.parse(value as string);
}

function byOperation(spans: LocalSpan[], operation: string): LocalSpan[] {
  return spans.filter((span) => span.attributes['ai.operationId'] === operation);
}

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  fake = await startFakeOpenAI({
    script: (request) =>
      request.body.messages.some((message) => (message as { role: string }).role === 'tool')
        ? { content: ANSWER, usage: { prompt_tokens: 40, completion_tokens: 9 } }
        : {
            toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }],
            usage: { prompt_tokens: 30, completion_tokens: 12 },
          },
  });
});
after(async () => {
  context.disable();
  await fake.close();
});

describe('Vercel AI SDK spans (ai.*) in MLflow shape', () => {
  it('the operation is a CHAIN with the question in and the answer out, and no usage of its own', async () => {
    const [root] = byOperation((await legacyAgentTrace()).map(toMlflowSpan), 'ai.generateText');
    assert.ok(root);
    assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
    assert.deepEqual(json(root, 'mlflow.spanInputs'), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: QUESTION },
      ],
    });
    assert.deepEqual(json(root, 'mlflow.spanOutputs'), {
      choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
    });
    assert.equal(root.attributes['mlflow.chat.tokenUsage'], undefined, 'its ai.usage.* is the sum of its model calls');
    assert.equal(root.attributes['ai.usage.inputTokens'], 70, "the SDK's own attributes stay");
  });

  it('each model call is a CHAT_MODEL span with OpenAI messages, tool calls, tools, usage, model and vendor', async () => {
    const calls = byOperation((await legacyAgentTrace()).map(toMlflowSpan), 'ai.generateText.doGenerate');
    assert.equal(calls.length, 2);
    const [first, second] = calls.sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano))) as [
      LocalSpan,
      LocalSpan,
    ];
    for (const call of calls) {
      assert.equal(call.attributes['mlflow.spanType'], 'CHAT_MODEL');
      assert.equal(call.attributes['mlflow.llm.model'], 'gpt-4o-mini');
      assert.equal(call.attributes['mlflow.llm.provider'], 'openai', 'the vendor, not the API (openai.chat)');
      assert.equal(call.attributes['mlflow.message.format'], 'openai');
    }
    assert.deepEqual(json(first, 'mlflow.spanOutputs'), {
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
          },
          finish_reason: 'tool-calls',
        },
      ],
    });
    assert.deepEqual(json(first, 'mlflow.chat.tokenUsage'), { input_tokens: 30, output_tokens: 12, total_tokens: 42 });
    const [tool] = json(first, 'mlflow.chat.tools') as { type: string; function: { name: string; description: string } }[];
    assert.equal(tool?.type, 'function');
    assert.equal(tool?.function.name, 'weather');
    assert.equal(tool?.function.description, 'Current weather in a city');
    assert.deepEqual(json(second, 'mlflow.spanInputs'), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: QUESTION },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', content: '{"city":"Paris","celsius":18}', tool_call_id: 'call_1' },
      ],
    });
    assert.deepEqual(json(second, 'mlflow.chat.tokenUsage'), { input_tokens: 40, output_tokens: 9, total_tokens: 49 });
  });

  it('a tool call is a TOOL span with its arguments in and its result out', async () => {
    const [tool] = byOperation((await legacyAgentTrace()).map(toMlflowSpan), 'ai.toolCall');
    assert.ok(tool);
    assert.equal(tool.attributes['mlflow.spanType'], 'TOOL');
    assert.deepEqual(json(tool, 'mlflow.spanInputs'), { city: 'Paris' });
    assert.deepEqual(json(tool, 'mlflow.spanOutputs'), { city: 'Paris', celsius: 18 });
  });

  it('embedMany: EMBEDDING spans, the tokens counted on the model calls only', async () => {
    exporter.reset();
    const model = new MockEmbeddingModelV4({
      modelId: 'embed-small',
      maxEmbeddingsPerCall: 1,
      doEmbed: async ({ values }) => ({ embeddings: values.map(() => [0.5, 0.5]), usage: { tokens: 4 }, warnings: [] }),
    });
    await ai.embedMany({
      model,
      values: ['a', 'b'],
      telemetry: { integrations: [new LegacyOpenTelemetry({ tracer: provider.getTracer('ai') })] },
    });
    const spans = asRelayed(exporter.getFinishedSpans()).map(toMlflowSpan);
    assert.ok(spans.length >= 3);
    assert.ok(spans.every((span) => span.attributes['mlflow.spanType'] === 'EMBEDDING'));
    const usage = spans.flatMap((span) => (span.attributes['mlflow.chat.tokenUsage'] ? [json(span, 'mlflow.chat.tokenUsage')] : []));
    assert.deepEqual(usage, [
      { input_tokens: 4, output_tokens: 0, total_tokens: 4 },
      { input_tokens: 4, output_tokens: 0, total_tokens: 4 },
    ]);
  });

  it("AI SDK 4's names (promptTokens, args) are read too", () => {
    const span: LocalSpan = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: null,
      name: 'ai.streamText.doStream',
      kind: 0,
      startTimeUnixNano: '1764806400000000000',
      endTimeUnixNano: '1764806400500000000',
      status: { code: 0 },
      attributes: {
        'ai.operationId': 'ai.streamText.doStream',
        'ai.model.provider': 'anthropic.messages',
        'ai.model.id': 'claude-sonnet-4',
        'ai.prompt.messages': JSON.stringify([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]),
        'ai.response.toolCalls': JSON.stringify([{ toolCallId: 't1', toolName: 'lookup', args: { q: 'x' } }]),
        'ai.usage.promptTokens': 5,
        'ai.usage.completionTokens': 2,
      },
      events: [],
      resource: { 'service.name': 'app' },
      scope: { name: 'ai' },
    };
    const translated = toMlflowSpan(span);
    assert.equal(translated.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.equal(translated.attributes['mlflow.llm.provider'], 'anthropic');
    assert.deepEqual(json(translated, 'mlflow.spanInputs'), { messages: [{ role: 'user', content: 'Hi' }] });
    assert.deepEqual(json(translated, 'mlflow.chat.tokenUsage'), { input_tokens: 5, output_tokens: 2, total_tokens: 7 });
    const outputs = json(translated, 'mlflow.spanOutputs') as { choices: { message: { tool_calls: unknown[] } }[] };
    assert.deepEqual(outputs.choices[0]?.message.tool_calls, [
      { id: 't1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
    ]);
  });

  it("AI SDK 7's OpenTelemetry integration (GenAI conventions): its step spans are CHAINs, and usage counts once", async () => {
    const spans = (await legacyAgentTrace('genai')).map(toMlflowSpan);
    const typeOf = (name: string) => spans.filter((span) => span.name === name).map((span) => span.attributes['mlflow.spanType']);
    assert.deepEqual(typeOf('invoke_agent gpt-4o-mini'), ['AGENT']);
    assert.deepEqual(typeOf('step 1'), ['CHAIN']);
    assert.deepEqual(typeOf('chat gpt-4o-mini'), ['CHAT_MODEL', 'CHAT_MODEL']);
    assert.deepEqual(typeOf('execute_tool weather'), ['TOOL']);
    const usage = spans.flatMap((span) =>
      span.attributes['mlflow.chat.tokenUsage'] ? [json(span, 'mlflow.chat.tokenUsage') as { total_tokens: number }] : [],
    );
    const total = usage.reduce((sum, counted) => sum + counted.total_tokens, 0);
    assert.equal(total, 42 + 49);
  });

  it('with content capture off, nothing the user or the model said is left, in ai.* nor in what it translates to', async () => {
    for (const integration of ['legacy', 'genai'] as const) {
      const spans = (await legacyAgentTrace(integration)).map((span) =>
        toMlflowSpan({ ...span, attributes: withoutContent(span.attributes) }),
      );
      for (const span of spans) {
        const text = JSON.stringify(span.attributes);
        for (const said of [QUESTION, ANSWER, 'Be brief.', 'Paris', 'celsius'])
          assert.ok(!text.includes(said), `${integration} ${span.name}: no "${said}"`);
      }
      const usage = spans.flatMap((span) => (span.attributes['mlflow.chat.tokenUsage'] ? [span.name] : []));
      assert.equal(usage.length, 2, `${integration}: usage stays`);
    }
  });

  for (const version of [MLFLOW_VERSIONS[0]!, MLFLOW_VERSIONS.at(-1)!]) {
    it(`MLflow ${version} shows the relayed trace with its previews, span types and one token total`, async () => {
      const spans = (await legacyAgentTrace()).map(toMlflowSpan);
      const server = await startFakeMlflow({ version });
      try {
        const experimentId = server.createExperiment('vercel-ai');
        const sender = otlpSender({
          description: 'fake MLflow',
          http: createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }, { host: server.url }) }),
          path: '/v1/traces',
          headers: { 'x-mlflow-experiment-id': experimentId },
          encoding: 'protobuf',
          gzip: version !== '3.6.0',
        });
        const hex = spans[0]!.traceId;
        const outcome = await sender.send([{ hex, traceId: `tr-${hex}`, otlp: encodeLocalTrace(spans).otlp, attempts: 0 }]);
        assert.equal(outcome.kind, 'delivered', JSON.stringify(outcome));
        const [trace] = server.store.traces(experimentId);
        assert.ok(trace);
        assert.equal(trace.info.request_preview, QUESTION);
        assert.equal(trace.info.response_preview, ANSWER);
        assert.equal(JSON.parse(trace.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 42 + 49);
        assert.deepEqual(trace.spans.map((span) => span.attributes['mlflow.spanType']).sort(), [
          'CHAIN',
          'CHAT_MODEL',
          'CHAT_MODEL',
          'TOOL',
        ]);
      } finally {
        await server.close();
      }
    });
  }
});
