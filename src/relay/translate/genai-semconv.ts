import type { LocalSpan } from '../../spans/local-span.ts';
import { chatInputs, chatOutputs, chatTools, toolCall, type ChatMessage } from './chat-shape.ts';
import { contentValue, decodedValue, firstString, isRecord, parseJson, stringValue, usageOf } from './read-values.ts';
import type { FactReader, SpanAttributes, SpanFacts } from './span-facts.ts';

/**
 * The OpenTelemetry GenAI semantic conventions (gen_ai.*), current and the older prompt/completion
 * and event forms. Span types follow MLflow's own GenAiTranslator (mlflow/tracing/otel/translation/
 * genai_semconv.py); `retrieval` is the conventions' newer operation for RAG lookups.
 */
const OPERATION_SPAN_TYPES: Readonly<Record<string, string>> = {
  chat: 'CHAT_MODEL',
  text_completion: 'LLM',
  generate_content: 'LLM',
  response: 'LLM',
  embeddings: 'EMBEDDING',
  execute_tool: 'TOOL',
  invoke_agent: 'AGENT',
  create_agent: 'AGENT',
  retrieval: 'RETRIEVER',
};

/** Any of these says the span speaks the conventions; checked before anything is parsed. */
const MARKERS = [
  'gen_ai.operation.name',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.provider.name',
  'gen_ai.system',
  'gen_ai.request.model',
  'gen_ai.response.model',
  'gen_ai.usage.input_tokens',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'gen_ai.prompt',
  'gen_ai.completion',
];

export const readGenAiSemconv: FactReader = (span) => {
  const attributes = span.attributes;
  const events = span.events.length === 0 ? [] : span.events.filter((event) => event.name.startsWith('gen_ai.'));
  if (events.length === 0 && !MARKERS.some((key) => key in attributes)) return undefined;
  const facts: SpanFacts = {};
  const operation = stringValue(attributes['gen_ai.operation.name']);
  if (operation !== undefined && OPERATION_SPAN_TYPES[operation] !== undefined) facts.spanType = OPERATION_SPAN_TYPES[operation];
  readInputs(attributes, events, facts);
  readOutputs(attributes, events, facts);
  const usage = usageOf(attributes['gen_ai.usage.input_tokens'], attributes['gen_ai.usage.output_tokens'], undefined);
  if (usage) facts.usage = usage;
  // MLflow prefers the model that answered to the one asked for (they differ for aliases).
  const model = firstString(attributes, ['gen_ai.response.model', 'gen_ai.request.model']);
  if (model !== undefined) facts.model = model;
  const provider = firstString(attributes, ['gen_ai.provider.name', 'gen_ai.system']);
  if (provider !== undefined) facts.provider = provider;
  const tools = chatTools(decodedValue(attributes['gen_ai.tool.definitions']));
  if (tools) facts.tools = tools;
  return facts;
};

type SpanEvent = LocalSpan['events'][number];

function readInputs(attributes: SpanAttributes, events: SpanEvent[], facts: SpanFacts): void {
  const raw =
    attributes['gen_ai.input.messages'] ?? attributes['gen_ai.prompt'] ?? eventAttribute(events, 'gen_ai.content.prompt', 'gen_ai.prompt');
  if (raw !== undefined) {
    const messages = chatMessages(decodedValue(raw), 'user');
    if (messages) {
      facts.inputs = chatInputs([...systemMessages(attributes['gen_ai.system_instructions']), ...messages]);
      facts.inputsChatShaped = true;
    } else {
      // Not messages after all (or not JSON): shown as they came, as MLflow itself would.
      facts.inputs = contentValue(raw);
    }
    return;
  }
  const toolArguments = contentValue(attributes['gen_ai.tool.call.arguments']);
  if (toolArguments !== undefined) {
    facts.inputs = toolArguments;
    return;
  }
  const fromEvents = messageEvents(events);
  if (fromEvents.length > 0) {
    facts.inputs = chatInputs(fromEvents);
    facts.inputsChatShaped = true;
  }
}

function readOutputs(attributes: SpanAttributes, events: SpanEvent[], facts: SpanFacts): void {
  const raw =
    attributes['gen_ai.output.messages'] ??
    attributes['gen_ai.completion'] ??
    eventAttribute(events, 'gen_ai.content.completion', 'gen_ai.completion');
  if (raw !== undefined) {
    const decoded = decodedValue(raw);
    const messages = Array.isArray(decoded) ? decoded.flatMap((item) => outputChoice(item) ?? []) : [];
    if (messages.length > 0 && Array.isArray(decoded) && messages.length === decoded.length) {
      facts.outputs = chatOutputs(messages);
      facts.outputsChatShaped = true;
    } else {
      facts.outputs = contentValue(raw);
    }
    return;
  }
  const toolResult = contentValue(attributes['gen_ai.tool.call.result']);
  if (toolResult !== undefined) {
    facts.outputs = toolResult;
    return;
  }
  const choices = events.flatMap((event) => (event.name === 'gen_ai.choice' ? (choiceEvent(event) ?? []) : []));
  if (choices.length > 0) {
    facts.outputs = chatOutputs(choices);
    facts.outputsChatShaped = true;
  }
}

function eventAttribute(events: SpanEvent[], name: string, key: string): unknown {
  return events.find((event) => event.name === name)?.attributes[key];
}

/** A list of messages in the GenAI shape (`{role, parts}`) or already OpenAI's (`{role, content}`); else undefined. */
function chatMessages(value: unknown, defaultRole: string): ChatMessage[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const messages: ChatMessage[] = [];
  for (const item of value) {
    const converted = chatMessagesOf(item, defaultRole);
    if (!converted) return undefined;
    messages.push(...converted);
  }
  return messages;
}

/**
 * One GenAI message as OpenAI messages: text parts become the content, tool_call parts `tool_calls`,
 * and each tool_call_response a `tool` message of its own, as OpenAI carries tool results. Other
 * parts (images, files) stay as they are in a content list; reasoning is left to the original attribute.
 */
function chatMessagesOf(item: unknown, defaultRole: string): ChatMessage[] | undefined {
  if (!isRecord(item)) return undefined;
  const role = typeof item.role === 'string' ? item.role : defaultRole;
  const name = typeof item.name === 'string' ? { name: item.name } : {};
  if (!Array.isArray(item.parts)) return 'content' in item ? [{ ...item, role, content: item.content }] : undefined;
  const texts: string[] = [];
  const media: unknown[] = [];
  const calls = [];
  const results: ChatMessage[] = [];
  for (const part of item.parts) {
    if (!isRecord(part)) continue;
    switch (part.type) {
      case 'text':
        if (typeof part.content === 'string') texts.push(part.content);
        break;
      case 'tool_call':
        calls.push(toolCall(part.id, part.name, part.arguments));
        break;
      case 'tool_call_response':
        results.push({
          role: 'tool',
          content: typeof part.response === 'string' ? part.response : JSON.stringify(part.response ?? null),
          ...(typeof part.id === 'string' && { tool_call_id: part.id }),
        });
        break;
      case 'reasoning':
        break;
      default:
        media.push(part);
    }
  }
  if (texts.length === 0 && media.length === 0 && calls.length === 0 && results.length > 0) return results;
  const content =
    media.length > 0 ? [...texts.map((text) => ({ type: 'text', text })), ...media] : texts.length > 0 ? texts.join('\n') : null;
  return [{ role, content, ...name, ...(calls.length > 0 && { tool_calls: calls }) }, ...results];
}

function outputChoice(item: unknown): { message: ChatMessage; finishReason?: string } | undefined {
  const [message] = chatMessagesOf(item, 'assistant') ?? [];
  if (!message) return undefined;
  const finishReason = isRecord(item) ? stringValue(item.finish_reason) : undefined;
  return { message, ...(finishReason !== undefined && { finishReason }) };
}

/** `gen_ai.system_instructions`: a list of parts, or (from some SDKs) plain text. */
function systemMessages(value: unknown): ChatMessage[] {
  const decoded = decodedValue(value);
  if (typeof decoded === 'string' && decoded !== '') return [{ role: 'system', content: decoded }];
  if (!Array.isArray(decoded)) return [];
  const texts = decoded.flatMap((part) =>
    isRecord(part) && typeof part.content === 'string' ? [part.content] : typeof part === 'string' ? [part] : [],
  );
  return texts.length > 0 ? [{ role: 'system', content: texts.join('\n') }] : [];
}

const MESSAGE_EVENT_ROLES: Readonly<Record<string, string>> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

/** The older conventions' message events, in the order they were recorded. */
function messageEvents(events: SpanEvent[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const event of events) {
    const role = MESSAGE_EVENT_ROLES[event.name];
    if (role === undefined) continue;
    const content = decodedValue(event.attributes.content);
    if (content === undefined) continue;
    const toolCallId = stringValue(event.attributes.id);
    messages.push({ role, content, ...(role === 'tool' && toolCallId !== undefined && { tool_call_id: toolCallId }) });
  }
  return messages;
}

/** `gen_ai.choice`: the message as its own JSON attribute, or its content and role side by side. */
function choiceEvent(event: SpanEvent): { message: ChatMessage; finishReason?: string } | undefined {
  const { attributes } = event;
  const finishReason = stringValue(attributes.finish_reason);
  const withReason = (message: ChatMessage) => ({ message, ...(finishReason !== undefined && { finishReason }) });
  const message = typeof attributes.message === 'string' ? parseJson(attributes.message)?.value : attributes.message;
  if (isRecord(message)) {
    const [converted] = chatMessagesOf(message, 'assistant') ?? [];
    if (converted) return withReason(converted);
  }
  const content = decodedValue(attributes.content);
  if (content === undefined) return undefined;
  return withReason({ role: stringValue(attributes.role) ?? 'assistant', content });
}
