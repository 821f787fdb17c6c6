import type { LocalSpan } from '../spans/local-span.ts';
import { encodeJsonAttribute } from '../tracing/encode-attributes.ts';
import { MlflowAttr, type TokenUsage } from '../tracing/mlflow-attributes.ts';
import { readGenAiSemconv } from './translate/genai-semconv.ts';
import { readOpenInference } from './translate/openinference.ts';
import { readOpenLlmetry } from './translate/openllmetry.ts';
import type { FactReader, SpanAttributes, SpanFacts } from './translate/span-facts.ts';
import { readVercelAi } from './translate/vercel-ai.ts';

/**
 * In MLflow's own order (mlflow/tracing/otel/translation/__init__.py): the first convention that says
 * something wins. But the AI SDK's spans come first, where MLflow has them last: they carry a few
 * `gen_ai.*` keys beside their own, which would otherwise name the provider by API (`openai.chat`)
 * and leave the prompt and answer to be read from them alone.
 */
const READERS: readonly FactReader[] = [readVercelAi, readOpenInference, readGenAiSemconv, readOpenLlmetry];

/**
 * Spans that contain the model calls: a GenAI `invoke_agent` span may carry the whole run's usage,
 * which its chat spans carry again. MLflow sums every span's usage into the trace's, so only the
 * leaf model spans get it.
 */
const AGGREGATING_SPAN_TYPES: ReadonlySet<unknown> = new Set(['AGENT', 'CHAIN', 'WORKFLOW', 'TASK']);

/**
 * The span as MLflow renders it on every server version: MLflow's own span type, inputs/outputs,
 * token usage, model and provider, derived from the GenAI conventions, OpenInference or OpenLLMetry
 * where the client did not set them. MLflow 3.8+ derive much of this themselves, 3.6/3.7 nothing;
 * explicit `mlflow.*` keys win on all of them, so a relayed trace looks the same everywhere.
 *
 * The client's own attributes stay as they are, and `mlflow.*` values it set are never replaced.
 * `mlflow.traceRequestId` goes: the server derives it, and a client-sent one breaks its UI.
 *
 * Previews come from the root span's inputs/outputs. A root without its own is left without:
 * copying a child's inputs up would show what MLflow never shows for the same trace.
 */
export function toMlflowSpan(span: LocalSpan): LocalSpan {
  const facts = readFacts(span);
  const hasRequestId = MlflowAttr.traceRequestId in span.attributes;
  if (!facts && !hasRequestId) return span;
  const attributes: SpanAttributes = { ...span.attributes };
  delete attributes[MlflowAttr.traceRequestId];
  if (facts) applyFacts(attributes, facts);
  return { ...span, attributes };
}

function readFacts(span: LocalSpan): SpanFacts | undefined {
  let merged: SpanFacts | undefined;
  for (const read of READERS) {
    const found = read(span);
    if (!found) continue;
    merged = merged ? mergeFacts(merged, found) : found;
  }
  return merged;
}

/** Fills what `first` lacks from `second`; inputs and outputs keep their shape flag with them. */
function mergeFacts(first: SpanFacts, second: SpanFacts): SpanFacts {
  const merged: SpanFacts = { ...first };
  merged.spanType ??= second.spanType;
  if (merged.inputs === undefined && second.inputs !== undefined) {
    merged.inputs = second.inputs;
    merged.inputsChatShaped = second.inputsChatShaped;
  }
  if (merged.outputs === undefined && second.outputs !== undefined) {
    merged.outputs = second.outputs;
    merged.outputsChatShaped = second.outputsChatShaped;
  }
  merged.usage ??= second.usage;
  merged.model ??= second.model;
  merged.provider ??= second.provider;
  merged.tools ??= second.tools;
  return merged;
}

function applyFacts(attributes: SpanAttributes, facts: SpanFacts): void {
  const setIfAbsent = (key: string, value: string | undefined): boolean => {
    if (value === undefined || attributes[key] !== undefined) return false;
    attributes[key] = value;
    return true;
  };
  setIfAbsent(MlflowAttr.spanType, facts.spanType);
  const inputsSet = setIfAbsent(MlflowAttr.spanInputs, facts.inputs === undefined ? undefined : encodeJsonAttribute(facts.inputs));
  const outputsSet = setIfAbsent(MlflowAttr.spanOutputs, facts.outputs === undefined ? undefined : encodeJsonAttribute(facts.outputs));
  // The chat view reads the format for both sides: claim it only when every side shown is ours and chat-shaped.
  const inputsChat = inputsSet && facts.inputsChatShaped === true;
  const outputsChat = outputsSet && facts.outputsChatShaped === true;
  const inputsFit = attributes[MlflowAttr.spanInputs] === undefined || inputsChat;
  const outputsFit = attributes[MlflowAttr.spanOutputs] === undefined || outputsChat;
  if ((inputsChat || outputsChat) && inputsFit && outputsFit) setIfAbsent(MlflowAttr.messageFormat, 'openai');
  if (facts.usage && !AGGREGATING_SPAN_TYPES.has(attributes[MlflowAttr.spanType])) {
    const usage: TokenUsage = { input_tokens: facts.usage.input, output_tokens: facts.usage.output, total_tokens: facts.usage.total };
    setIfAbsent(MlflowAttr.tokenUsage, JSON.stringify(usage));
  }
  setIfAbsent(MlflowAttr.llmModel, facts.model);
  setIfAbsent(MlflowAttr.llmProvider, facts.provider);
  // A bare list, as MLflow's own set_span_chat_tools writes it.
  setIfAbsent(MlflowAttr.chatTools, facts.tools === undefined ? undefined : JSON.stringify(facts.tools));
}
