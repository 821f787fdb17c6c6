import assert from 'node:assert/strict';
import { context, trace, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace';
import { setSpanInputs, setSpanOutputs, setSpanType, setTokenUsage } from '../../src/tracing/encode-attributes.ts';
import { lightTracer } from '../../src/tracing/light-tracer.ts';

/** The tracer the tool's instrumentation gets, without the bootstrap: its spans kept in memory. */
export function memoryTracer(
  scope = 'test',
  sampler: Sampler = new AlwaysOnSampler(),
): { tracer: Tracer; finished: () => ReadableSpan[]; forget: () => void } {
  const exporter = new InMemorySpanExporter();
  const tracer = lightTracer({
    resource: resourceFromAttributes({ 'service.name': 'test' }),
    sampler,
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    scope: { name: scope },
  });
  return { tracer, finished: () => exporter.getFinishedSpans(), forget: () => exporter.reset() };
}

/** agent → llm (with usage) + tool: the smallest trace that exercises every REST field. */
export function chatTrace(tracer: Tracer, options: { session?: string; error?: boolean } = {}): void {
  const root = tracer.startSpan('agent', options.session ? { attributes: { 'session.id': options.session, 'user.id': 'u-1' } } : {});
  setSpanType(root, 'AGENT');
  setSpanInputs(root, {
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'What is 2+2?' },
    ],
  });
  const parent = trace.setSpan(context.active(), root);
  const llm = tracer.startSpan('llm', {}, parent);
  setSpanType(llm, 'LLM');
  setSpanInputs(llm, { messages: [{ role: 'user', content: 'What is 2+2?' }] });
  setSpanOutputs(llm, { choices: [{ index: 0, message: { role: 'assistant', content: '4' } }] });
  setTokenUsage(llm, { input: 12, output: 5 });
  llm.end();
  const tool = tracer.startSpan('calculator', {}, parent);
  setSpanType(tool, 'TOOL');
  tool.addEvent('tool.note', { detail: 'evaluated' });
  tool.end();
  setSpanOutputs(root, { choices: [{ index: 0, message: { role: 'assistant', content: 'It is 4.' } }] });
  if (options.error) root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  root.end();
}

/** A span attribute MLflow reads as JSON text, parsed; fails the test when it is not a string. */
export function jsonAttribute(span: ReadableSpan, key: string): unknown {
  const value = span.attributes[key];
  assert.equal(typeof value, 'string', `${span.name}: ${key} is JSON text`);
  return JSON.parse(value as string);
}

/** The one span a call made, or a failure naming what was finished instead. */
export function onlySpanIn(spans: readonly ReadableSpan[]): ReadableSpan {
  assert.equal(spans.length, 1, `one finished span, got ${spans.map((span) => span.name).join(', ') || 'none'}`);
  return spans[0]!;
}

/** Every item of a stream, read to its end as a caller would. */
export async function collect<Item>(stream: AsyncIterable<Item>): Promise<Item[]> {
  const items: Item[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** A request body that counts how often it is serialised: JSON.stringify calls its toJSON. */
export function countedSerialisations<Body extends object>(body: Body): { body: Body; serialisations: () => number } {
  let count = 0;
  const counted = {
    ...body,
    toJSON: () => {
      count++;
      return body;
    },
  };
  return { body: counted, serialisations: () => count };
}
