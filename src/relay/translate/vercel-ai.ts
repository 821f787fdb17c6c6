import { chatInputs, chatOutputs } from '../../tracing/vercel-ai/chat-messages.ts';
import { chatTools } from './chat-shape.ts';
import { contentValue, decodedValue, firstString, isRecord, stringValue, usageOf } from './read-values.ts';
import type { FactReader, SpanAttributes, SpanFacts, TokenCounts } from './span-facts.ts';

/**
 * The Vercel AI SDK's own spans (`ai.*`: what `experimental_telemetry` made up to AI SDK 6, and
 * `LegacyOpenTelemetry` of `@ai-sdk/otel` since 7), named by `ai.operationId`. The operation spans
 * (ai.generateText, ai.streamText…) are CHAIN spans around the model calls (….doGenerate,
 * ….doStream: CHAT_MODEL); both carry usage, the outer one the sum of its calls, so only the model
 * calls get it and MLflow counts it once. MLflow's own VercelAITranslator calls both LLM and reads
 * no chat shape; here the model calls' prompt and answer become OpenAI messages.
 *
 * The spans of AI SDK 7's `OpenTelemetry` integration follow the GenAI conventions, read by their
 * own reader, but for one operation of the SDK's own: `agent_step`, a CHAIN.
 */
const OPERATION_SPAN_TYPES: Readonly<Record<string, string>> = {
  'ai.generateText': 'CHAIN',
  'ai.streamText': 'CHAIN',
  'ai.generateObject': 'CHAIN',
  'ai.streamObject': 'CHAIN',
  'ai.generateText.doGenerate': 'CHAT_MODEL',
  'ai.streamText.doStream': 'CHAT_MODEL',
  'ai.generateObject.doGenerate': 'CHAT_MODEL',
  'ai.streamObject.doStream': 'CHAT_MODEL',
  'ai.toolCall': 'TOOL',
  'ai.embed': 'EMBEDDING',
  'ai.embedMany': 'EMBEDDING',
  'ai.embed.doEmbed': 'EMBEDDING',
  'ai.embedMany.doEmbed': 'EMBEDDING',
};

export const readVercelAi: FactReader = (span) => {
  const attributes = span.attributes;
  // AI SDK 7's OpenTelemetry integration speaks the GenAI conventions, but for its own `step N` spans.
  if (attributes['gen_ai.operation.name'] === 'agent_step') return { spanType: 'CHAIN' };
  const operation = stringValue(attributes['ai.operationId']);
  if (operation === undefined || !operation.startsWith('ai.')) return undefined;
  const facts: SpanFacts = {};
  const spanType = OPERATION_SPAN_TYPES[operation];
  if (spanType !== undefined) facts.spanType = spanType;
  const modelCall = /\.do(Generate|Stream|Embed)$/.test(operation);

  if (operation === 'ai.toolCall') readTool(attributes, facts);
  else if (spanType === 'EMBEDDING') readEmbedding(attributes, facts, modelCall);
  else if (modelCall) readModelCall(attributes, facts);
  else readOperation(attributes, facts);

  const model = firstString(attributes, ['ai.response.model', 'ai.model.id']);
  if (model !== undefined) facts.model = model;
  // The SDK names providers by API (openai.chat, openai.responses); MLflow by vendor.
  const provider = stringValue(attributes['ai.model.provider']);
  if (provider !== undefined) facts.provider = provider.split('.')[0] ?? provider;
  return facts;
};

function readTool(attributes: SpanAttributes, facts: SpanFacts): void {
  const inputs = contentValue(attributes['ai.toolCall.args'] ?? attributes['ai.toolCall.input']);
  if (inputs !== undefined) facts.inputs = inputs;
  const outputs = contentValue(attributes['ai.toolCall.result'] ?? attributes['ai.toolCall.output']);
  if (outputs !== undefined) facts.outputs = outputs;
}

function readEmbedding(attributes: SpanAttributes, facts: SpanFacts, modelCall: boolean): void {
  const values = attributes['ai.values'] ?? attributes['ai.value'];
  if (values !== undefined) facts.inputs = { input: Array.isArray(values) ? values.map((value) => decodedValue(value)) : values };
  const tokens = attributes['ai.usage.tokens'];
  if (modelCall && typeof tokens === 'number' && Number.isSafeInteger(tokens) && tokens >= 0) {
    facts.usage = { input: tokens, output: 0, total: tokens };
  }
}

/** A model call: the messages sent (`ai.prompt.messages`, the provider's prompt) and the answer with its tool calls. */
function readModelCall(attributes: SpanAttributes, facts: SpanFacts): void {
  const messages = decodedValue(attributes['ai.prompt.messages']);
  if (Array.isArray(messages)) {
    facts.inputs = chatInputs(undefined, messages);
    facts.inputsChatShaped = true;
  }
  const answer = answerOf(attributes);
  if (answer) {
    facts.outputs = answer;
    facts.outputsChatShaped = true;
  }
  const usage = usageOfModelCall(attributes);
  if (usage) facts.usage = usage;
  const tools = promptTools(attributes['ai.prompt.tools']);
  if (tools) facts.tools = tools;
}

/** An operation: the program's prompt (`ai.prompt`: `{system?, prompt?, messages?}`) and the final text or object. */
function readOperation(attributes: SpanAttributes, facts: SpanFacts): void {
  const prompt = decodedValue(attributes['ai.prompt']);
  if (isRecord(prompt)) {
    const messages = prompt.messages ?? (typeof prompt.prompt === 'string' ? [{ role: 'user', content: prompt.prompt }] : prompt.prompt);
    const inputs = chatInputs(prompt.system ?? prompt.instructions, messages);
    if (inputs.messages.length > 0) {
      facts.inputs = inputs;
      facts.inputsChatShaped = true;
    }
  } else if (prompt !== undefined) {
    facts.inputs = contentValue(prompt);
  }
  const object = contentValue(attributes['ai.response.object']);
  if (object !== undefined) {
    facts.outputs = object;
    return;
  }
  const text = attributes['ai.response.text'];
  if (typeof text === 'string') {
    facts.outputs = chatOutputs([{ type: 'text', text }], stringValue(attributes['ai.response.finishReason']));
    facts.outputsChatShaped = true;
  }
}

function answerOf(attributes: SpanAttributes): { choices: unknown[] } | undefined {
  const text = attributes['ai.response.text'];
  const object = attributes['ai.response.object'];
  const calls = decodedValue(attributes['ai.response.toolCalls']);
  const parts: Record<string, unknown>[] = [];
  if (typeof text === 'string' && text !== '') parts.push({ type: 'text', text });
  else if (typeof object === 'string' && object !== '') parts.push({ type: 'text', text: object });
  if (Array.isArray(calls)) {
    for (const call of calls) {
      // AI SDK 5+ name the arguments `input`, 4 `args`.
      if (isRecord(call))
        parts.push({ type: 'tool-call', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input ?? call.args });
    }
  }
  if (parts.length === 0 && typeof text !== 'string') return undefined;
  return chatOutputs(parts, stringValue(attributes['ai.response.finishReason']));
}

/** AI SDK 5+ count `inputTokens` / `outputTokens`, 4 `promptTokens` / `completionTokens`. */
function usageOfModelCall(attributes: SpanAttributes): TokenCounts | undefined {
  return (
    usageOf(attributes['ai.usage.inputTokens'], attributes['ai.usage.outputTokens'], attributes['ai.usage.totalTokens']) ??
    usageOf(attributes['ai.usage.promptTokens'], attributes['ai.usage.completionTokens'], undefined)
  );
}

/** `ai.prompt.tools`: one JSON text per tool, `{type, name, description?, inputSchema}` (AI SDK 5+) or `parameters` (4). */
function promptTools(value: unknown): unknown[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return chatTools(
    value.map((tool) => {
      const definition = decodedValue(tool);
      if (!isRecord(definition) || definition.parameters !== undefined) return definition;
      const { inputSchema, ...rest } = definition;
      return { ...rest, parameters: inputSchema };
    }),
  );
}
