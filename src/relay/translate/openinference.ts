import { chatInputs, chatOutputs, chatTool, toolCall, type ChatMessage } from './chat-shape.ts';
import { contentValue, decodedValue, firstString, flattenedList, stringValue, usageOf, type Flattened } from './read-values.ts';
import type { FactReader, SpanFacts } from './span-facts.ts';

/**
 * OpenInference (Arize Phoenix's conventions): `openinference.span.kind`, `input.value` /
 * `output.value`, flattened `llm.input_messages.N.message.*`, `retrieval.documents.N.document.*`.
 * Span kinds and keys as MLflow's OpenInferenceTranslator reads them.
 */
const SPAN_KIND_TYPES: Readonly<Record<string, string>> = {
  LLM: 'LLM',
  CHAIN: 'CHAIN',
  TOOL: 'TOOL',
  RETRIEVER: 'RETRIEVER',
  EMBEDDING: 'EMBEDDING',
  AGENT: 'AGENT',
  RERANKER: 'RERANKER',
  UNKNOWN: 'UNKNOWN',
  GUARDRAIL: 'GUARDRAIL',
  EVALUATOR: 'EVALUATOR',
};

const MARKERS = ['openinference.span.kind', 'input.value', 'output.value', 'llm.model_name', 'llm.token_count.prompt'];

export const readOpenInference: FactReader = (span) => {
  const attributes = span.attributes;
  if (!MARKERS.some((key) => key in attributes)) return undefined;
  const facts: SpanFacts = {};
  const kind = stringValue(attributes['openinference.span.kind']);
  if (kind !== undefined && SPAN_KIND_TYPES[kind] !== undefined) facts.spanType = SPAN_KIND_TYPES[kind];

  // Messages where the span has them: the chat shape previews well, while an LLM span's input.value
  // is whatever the framework passed (LangChain's serialised message objects, say).
  const entries = Object.entries(attributes);
  const inputMessages = messages(entries, 'llm.input_messages.');
  if (inputMessages.length > 0) {
    facts.inputs = chatInputs(inputMessages);
    facts.inputsChatShaped = true;
  } else {
    const inputs = contentValue(attributes['input.value']);
    if (inputs !== undefined) facts.inputs = inputs;
  }
  const documents = kind === 'RETRIEVER' ? retrievedDocuments(entries) : [];
  const outputMessages = messages(entries, 'llm.output_messages.');
  if (documents.length > 0) {
    facts.outputs = { documents };
  } else if (outputMessages.length > 0) {
    facts.outputs = chatOutputs(outputMessages.map((message) => ({ message })));
    facts.outputsChatShaped = true;
  } else {
    const outputs = contentValue(attributes['output.value']);
    if (outputs !== undefined) facts.outputs = outputs;
  }

  const usage = usageOf(
    attributes['llm.token_count.prompt'],
    attributes['llm.token_count.completion'],
    attributes['llm.token_count.total'],
  );
  if (usage) facts.usage = usage;
  const model = firstString(attributes, ['llm.response.model_name', 'llm.model_name', 'llm.request.model_name', 'embedding.model_name']);
  if (model !== undefined) facts.model = model;
  const provider = firstString(attributes, ['llm.provider', 'llm.system']);
  if (provider !== undefined) facts.provider = provider;
  const tools = flattenedList(entries, 'llm.tools.').flatMap((tool) => chatTool(decodedValue(tool.get('tool.json_schema'))) ?? []);
  if (tools.length > 0) facts.tools = tools;
  return facts;
};

function messages(entries: [string, unknown][], prefix: string): ChatMessage[] {
  return flattenedList(entries, prefix).flatMap((item) => message(item) ?? []);
}

function message(item: Flattened): ChatMessage | undefined {
  const role = stringValue(item.get('message.role'));
  if (role === undefined) return undefined;
  const entries = [...item.entries()];
  const calls = flattenedList(entries, 'message.tool_calls.').map((call) =>
    toolCall(call.get('tool_call.id'), call.get('tool_call.function.name'), call.get('tool_call.function.arguments')),
  );
  const name = stringValue(item.get('message.name'));
  const toolCallId = stringValue(item.get('message.tool_call_id'));
  return {
    role,
    content: item.get('message.content') ?? contents(entries),
    ...(name !== undefined && { name }),
    ...(calls.length > 0 && { tool_calls: calls }),
    ...(toolCallId !== undefined && { tool_call_id: toolCallId }),
  };
}

/** `message.contents.N.message_content.*`: multimodal content as OpenAI's list of parts. */
function contents(entries: [string, unknown][]): unknown {
  const parts = flattenedList(entries, 'message.contents.').flatMap((part): Record<string, unknown>[] => {
    const type = stringValue(part.get('message_content.type'));
    if (type === 'text') return [{ type: 'text', text: part.get('message_content.text') ?? '' }];
    const url = part.get('message_content.image.image.url');
    if (type === 'image' && typeof url === 'string') return [{ type: 'image_url', image_url: { url } }];
    return [];
  });
  return parts.length > 0 ? parts : null;
}

/** MLflow renders RETRIEVER outputs as documents with page_content, metadata and id. */
function retrievedDocuments(entries: [string, unknown][]): Record<string, unknown>[] {
  return flattenedList(entries, 'retrieval.documents.').map((document) => {
    const metadata = decodedValue(document.get('document.metadata'));
    const score = document.get('document.score');
    const id = document.get('document.id');
    return {
      page_content: document.get('document.content') ?? '',
      metadata: { ...(typeof metadata === 'object' && metadata !== null ? metadata : {}), ...(typeof score === 'number' && { score }) },
      ...(id !== undefined && { id: String(id) }),
    };
  });
}
