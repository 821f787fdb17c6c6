import type { Attributes, Span } from '@opentelemetry/api';
import { MlflowAttr } from './mlflow-attributes.ts';

/** Attributes that carry what users and models said: prompts, answers, documents, tool arguments. */
const CONTENT_ATTRIBUTES: readonly string[] = [
  MlflowAttr.spanInputs,
  MlflowAttr.spanOutputs,
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  // The Vercel AI SDK's own spans (ai.*), when an app makes them itself.
  'ai.prompt',
  'ai.prompt.messages',
  'ai.response.text',
  'ai.response.toolCalls',
  'ai.response.object',
  'ai.response.reasoning',
  'ai.toolCall.args',
  'ai.toolCall.result',
  'ai.value',
  'ai.values',
  'ai.embedding',
  'ai.embeddings',
];

/**
 * Content that other instrumentations put under numbered or nested keys (a relayed or `run` program's
 * spans): OpenInference's `llm.input_messages.0.message.content`, OpenLLMetry's `gen_ai.prompt.0.content`.
 */
const CONTENT_PREFIXES: readonly string[] = [
  // OpenInference
  'input.value',
  'output.value',
  'llm.input_messages.',
  'llm.output_messages.',
  'llm.prompts',
  'retrieval.documents.',
  'reranker.input_documents.',
  'reranker.output_documents.',
  'embedding.embeddings.',
  'message.content',
  'tool_call.function.arguments',
  // OpenLLMetry
  'gen_ai.prompt.',
  'gen_ai.completion.',
  'llm.completions.',
  'traceloop.entity.input',
  'traceloop.entity.output',
];

function isContent(key: string): boolean {
  return CONTENT_ATTRIBUTES.includes(key) || CONTENT_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/**
 * With content capture off, no span is stored or leaves the process with message content, whichever
 * code made it (request spans, retrieval, tools, the LLM instrumentation, a relayed program's own
 * instrumentation): one filter where finished spans enter the pipeline instead of a flag in every
 * place that records inputs and outputs.
 */
export function withoutContent<T extends Attributes>(attributes: T): T {
  const keys = Object.keys(attributes);
  if (!keys.some(isContent)) return attributes;
  const kept: Attributes = {};
  for (const key of keys) if (!isContent(key)) kept[key] = attributes[key];
  return kept as T;
}

/** Content is recorded when capture is on and the span records: for a sampled-out span nothing is serialised. */
export function capturesContent(captureContent: boolean, span: Span): boolean {
  return captureContent && span.isRecording();
}
