import { chatInputs, chatOutputs, toolCall, type ChatMessage } from './chat-shape.ts';
import { contentValue, decodedValue, flattenedList, stringValue, usageOf, type Flattened } from './read-values.ts';
import type { FactReader, SpanFacts } from './span-facts.ts';

/**
 * OpenLLMetry (Traceloop): `traceloop.span.kind` for workflow/task/agent/tool spans with
 * `traceloop.entity.input/output`, and LLM spans with `llm.request.type` and flattened
 * `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`. Kinds as MLflow's TraceloopTranslator maps them.
 */
const SPAN_KIND_TYPES: Readonly<Record<string, string>> = {
  workflow: 'WORKFLOW',
  task: 'TASK',
  agent: 'AGENT',
  tool: 'TOOL',
  unknown: 'UNKNOWN',
};

const REQUEST_TYPE_SPAN_TYPES: Readonly<Record<string, string>> = {
  chat: 'CHAT_MODEL',
  completion: 'LLM',
  embedding: 'EMBEDDING',
  rerank: 'RERANKER',
};

const MARKERS = [
  'traceloop.span.kind',
  'traceloop.entity.input',
  'traceloop.entity.output',
  'llm.request.type',
  'gen_ai.prompt.0.content',
  'gen_ai.prompt.0.role',
  'gen_ai.completion.0.content',
  'gen_ai.usage.prompt_tokens',
  'llm.usage.total_tokens',
];

export const readOpenLlmetry: FactReader = (span) => {
  const attributes = span.attributes;
  if (!MARKERS.some((key) => key in attributes)) return undefined;
  const facts: SpanFacts = {};
  const kind = stringValue(attributes['traceloop.span.kind']);
  const requestType = stringValue(attributes['llm.request.type']);
  const spanType =
    (kind !== undefined ? SPAN_KIND_TYPES[kind] : undefined) ??
    (requestType !== undefined ? REQUEST_TYPE_SPAN_TYPES[requestType] : undefined);
  if (spanType !== undefined) facts.spanType = spanType;

  const entries = Object.entries(attributes);
  const prompts = flattenedList(entries, 'gen_ai.prompt.').flatMap((item) => message(item, 'user') ?? []);
  if (prompts.length > 0) {
    facts.inputs = chatInputs(prompts);
    facts.inputsChatShaped = true;
  } else {
    const inputs = contentValue(attributes['traceloop.entity.input']);
    if (inputs !== undefined) facts.inputs = inputs;
  }
  const completions = flattenedList(entries, 'gen_ai.completion.').flatMap((item) => {
    const completion = message(item, 'assistant');
    const finishReason = stringValue(item.get('finish_reason'));
    return completion ? [{ message: completion, ...(finishReason !== undefined && { finishReason }) }] : [];
  });
  if (completions.length > 0) {
    facts.outputs = chatOutputs(completions);
    facts.outputsChatShaped = true;
  } else {
    const outputs = contentValue(attributes['traceloop.entity.output']);
    if (outputs !== undefined) facts.outputs = outputs;
  }

  const usage = usageOf(
    attributes['gen_ai.usage.prompt_tokens'],
    attributes['gen_ai.usage.completion_tokens'],
    attributes['llm.usage.total_tokens'],
  );
  if (usage) facts.usage = usage;
  const tools = flattenedList(entries, 'llm.request.functions.').flatMap((tool) => {
    const name = stringValue(tool.get('name'));
    if (name === undefined) return [];
    const description = tool.get('description');
    const parameters = decodedValue(tool.get('parameters'));
    return [
      {
        type: 'function',
        function: { name, ...(description !== undefined && { description }), ...(parameters !== undefined && { parameters }) },
      },
    ];
  });
  if (tools.length > 0) facts.tools = tools;
  return facts;
};

/** One flattened prompt or completion; content may be JSON text of OpenAI content parts. */
function message(item: Flattened, defaultRole: string): ChatMessage | undefined {
  const content = item.get('content');
  const calls = flattenedList([...item.entries()], 'tool_calls.').map((call) =>
    toolCall(call.get('id'), call.get('name'), call.get('arguments')),
  );
  if (content === undefined && calls.length === 0) return undefined;
  const toolCallId = stringValue(item.get('tool_call_id'));
  return {
    role: stringValue(item.get('role')) ?? defaultRole,
    content: content === undefined ? null : decodedValue(content),
    ...(calls.length > 0 && { tool_calls: calls }),
    ...(toolCallId !== undefined && { tool_call_id: toolCallId }),
  };
}
