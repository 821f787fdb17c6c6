import type { Attributes } from '@opentelemetry/api';
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
 * With content capture off, no span is stored or leaves the process with message content, whichever
 * code made it (request spans, retrieval, tools, the LLM instrumentation): one filter where finished
 * spans enter the pipeline instead of a flag in every place that records inputs and outputs.
 */
export function withoutContent<T extends Attributes>(attributes: T): T {
  if (!CONTENT_ATTRIBUTES.some((key) => key in attributes)) return attributes;
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (!CONTENT_ATTRIBUTES.includes(key)) kept[key] = value;
  return kept as T;
}
