import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { OpenTelemetry } from '@ai-sdk/otel';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import * as ai from 'ai';
import { instrumentVercelAi } from '../../../src/tracing/vercel-ai/instrument-vercel-ai.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../../fakes/fake-openai.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let fake: FakeOpenAI;

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  fake = await startFakeOpenAI();
});
after(async () => {
  context.disable();
  await fake.close();
});

describe('a program that registers the AI SDK OpenTelemetry integration itself', () => {
  it('keeps its own spans, and gets no second set', async () => {
    assert.equal(instrumentVercelAi(ai, { tracer: provider.getTracer('otel-mlflow'), captureContent: true }), ai);
    ai.registerTelemetry(new OpenTelemetry({ tracer: provider.getTracer('program') }));
    const model = createOpenAI({ apiKey: 'sk-test-own', baseURL: `${fake.url}/v1` }).chat('gpt-4o-mini');
    await ai.generateText({ model, prompt: 'Hello?' });
    const names = exporter.getFinishedSpans().map((span) => span.name);
    assert.deepEqual(names.sort(), ['chat gpt-4o-mini', 'invoke_agent gpt-4o-mini', 'step 1']);
    assert.ok(exporter.getFinishedSpans().every((span) => span.instrumentationScope.name === 'program'));
  });
});
