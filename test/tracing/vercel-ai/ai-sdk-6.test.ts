import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import * as aiV6 from 'ai-v6';
import { MockLanguageModelV3 } from 'ai-v6/test';
import { toMlflowSpan } from '../../../src/relay/translate-span.ts';
import { asRelayed } from '../../fakes/readable-spans.ts';
import { instrumentVercelAi } from '../../../src/tracing/vercel-ai/instrument-vercel-ai.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

function model(): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    provider: 'openai.chat',
    modelId: 'gpt-4o-mini',
    doGenerate: async () => ({
      content: [{ type: 'text', text: 'Paris.' }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: { total: 12, noCache: 12, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: 2, text: 2, reasoning: undefined },
      },
      warnings: [],
    }),
  });
}

function traced(captureContent: boolean): typeof aiV6 {
  return instrumentVercelAi(aiV6, { tracer: provider.getTracer('otel-mlflow'), captureContent });
}

before(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // AI SDK 6 makes its spans with the global tracer provider, as it does under `run`.
  trace.setGlobalTracerProvider(provider);
});
afterEach(() => exporter.reset());
after(() => {
  trace.disable();
  context.disable();
});

describe('AI SDK 6: telemetry turned on for every call', () => {
  it('the SDK makes its ai.* spans without the program asking, and the relay shows them as MLflow does', async () => {
    const ai = traced(true);
    assert.notEqual(ai, aiV6, 'a copy of the exports, with the traced functions replaced');
    const result = await ai.generateText({ model: model(), prompt: 'Capital of France?' });
    assert.equal(result.text, 'Paris.');
    const spans = asRelayed(exporter.getFinishedSpans()).map(toMlflowSpan);
    const typeOf = (name: string) => spans.find((span) => span.name === name)?.attributes['mlflow.spanType'];
    assert.equal(typeOf('ai.generateText'), 'CHAIN');
    assert.equal(typeOf('ai.generateText.doGenerate'), 'CHAT_MODEL');
    const usage = spans.flatMap((span) =>
      typeof span.attributes['mlflow.chat.tokenUsage'] === 'string' ? [span.attributes['mlflow.chat.tokenUsage']] : [],
    );
    assert.deepEqual(
      usage.map((value) => JSON.parse(value)),
      [{ input_tokens: 12, output_tokens: 2, total_tokens: 14 }],
      'once, on the model call',
    );
    const root = spans.find((span) => span.name === 'ai.generateText')!;
    assert.deepEqual(JSON.parse(root.attributes['mlflow.spanInputs'] as string), {
      messages: [{ role: 'user', content: 'Capital of France?' }],
    });
  });

  it("a caller's own telemetry settings stand: isEnabled false makes no span, a functionId is kept", async () => {
    const ai = traced(true);
    await ai.generateText({ model: model(), prompt: 'Quiet.', experimental_telemetry: { isEnabled: false } });
    assert.deepEqual(exporter.getFinishedSpans(), []);
    await ai.generateText({ model: model(), prompt: 'Named.', experimental_telemetry: { functionId: 'capitals' } });
    const root = exporter.getFinishedSpans().find((span) => span.attributes['ai.operationId'] === 'ai.generateText');
    assert.equal(root?.attributes['ai.telemetry.functionId'], 'capitals');
  });

  it('an agent, still an instance of the SDK’s class, switches it on for the calls it makes, unless its settings say otherwise', async () => {
    const ai = traced(true);
    const agent = new ai.ToolLoopAgent({ model: model(), instructions: 'Answer in one word.' });
    assert.ok(agent instanceof aiV6.ToolLoopAgent);
    assert.equal((await agent.generate({ prompt: 'Capital of France?' })).text, 'Paris.');
    assert.deepEqual(
      exporter
        .getFinishedSpans()
        .map((span) => span.name)
        .sort(),
      ['ai.generateText', 'ai.generateText.doGenerate'],
    );
    exporter.reset();
    const quiet = new ai.ToolLoopAgent({ model: model(), experimental_telemetry: { isEnabled: false } });
    await quiet.generate({ prompt: 'Quiet.' });
    assert.deepEqual(exporter.getFinishedSpans(), []);
  });

  it('with content capture off no prompt or answer is recorded, even where the caller asked for it', async () => {
    const ai = traced(false);
    await ai.generateText({ model: model(), prompt: 'Secret question', experimental_telemetry: { recordInputs: true } });
    const spans = exporter.getFinishedSpans();
    assert.ok(spans.length >= 2);
    for (const span of spans) {
      const text = JSON.stringify(span.attributes);
      assert.ok(!text.includes('Secret question') && !text.includes('Paris.'), `${span.name} carries no content`);
    }
    assert.equal(spans.find((span) => span.name === 'ai.generateText.doGenerate')?.attributes['ai.usage.inputTokens'], 12);
  });
});
