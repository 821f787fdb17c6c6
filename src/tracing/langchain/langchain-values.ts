/**
 * LangChain's values (messages, documents, prompt values: class instances of the program's own copy
 * of @langchain/core, recognised by shape) as the plain JSON MLflow shows: messages in OpenAI's chat
 * shape, documents as MLflow's `{page_content, metadata, id}`.
 */
export interface ChatMessage {
  role: string;
  content: unknown;
  name?: string;
  tool_calls?: { id?: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

type Fields = Record<string, unknown>;

const ROLES: Readonly<Record<string, string>> = { human: 'user', ai: 'assistant', system: 'system', tool: 'tool', function: 'function' };
/** Nested inputs are shown to this depth; deeper values are summarised. */
const MAX_DEPTH = 8;

export function isMessage(value: unknown): value is Fields {
  return isFields(value) && 'content' in value && typeof messageType(value) === 'string';
}

function messageType(message: Fields): unknown {
  if (typeof message._getType === 'function') return (message._getType as () => unknown).call(message);
  if (typeof message.getType === 'function') return (message.getType as () => unknown).call(message);
  return message.type;
}

export function chatMessage(message: Fields): ChatMessage {
  const type = String(messageType(message));
  const role = type === 'generic' && typeof message.role === 'string' ? message.role : (ROLES[type] ?? type);
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isFields) : [];
  return {
    role,
    content: messageContent(message.content),
    ...(typeof message.name === 'string' && message.name !== '' && { name: message.name }),
    ...(calls.length > 0 && {
      tool_calls: calls.map((call) => ({
        ...(typeof call.id === 'string' && { id: call.id }),
        type: 'function' as const,
        function: { name: String(call.name ?? ''), arguments: typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {}) },
      })),
    }),
    ...(typeof message.tool_call_id === 'string' && { tool_call_id: message.tool_call_id }),
  };
}

/** Text blocks alone collapse to their text, as previews read it; other blocks stay as they are. */
function messageContent(content: unknown): unknown {
  if (!Array.isArray(content)) return content ?? null;
  const blocks = content.filter(isFields);
  if (blocks.length === content.length && blocks.every((block) => block.type === 'text' && typeof block.text === 'string')) {
    return blocks.map((block) => block.text).join('');
  }
  return content.map((block) => plainValue(block, 1));
}

export function document(value: Fields): Fields {
  return {
    page_content: value.pageContent,
    metadata: isFields(value.metadata) ? plainValue(value.metadata, 1) : {},
    ...(value.id !== undefined && { id: String(value.id) }),
  };
}

function isDocument(value: Fields): boolean {
  return typeof value.pageContent === 'string';
}

/** Any chain input or output as JSON-safe data, messages and documents converted where they sit. */
export function plainValue(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object')
    return typeof value === 'bigint' ? String(value) : typeof value === 'function' ? undefined : value;
  if (depth > MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.map((item) => plainValue(item, depth + 1));
  if (isMessage(value)) return chatMessage(value);
  const fields = value as Fields;
  if (isDocument(fields)) return document(fields);
  const prototype = Object.getPrototypeOf(fields);
  if (prototype !== Object.prototype && prototype !== null) {
    // Prompt values: a chat prompt's messages, a string prompt's text.
    if (Array.isArray(fields.messages)) return { messages: fields.messages.map((item) => plainValue(item, depth + 1)) };
    if (typeof fields.value === 'string' && Object.keys(fields).some((key) => key.startsWith('lc_'))) return fields.value;
    if (value instanceof Date) return value.toISOString();
  }
  const plain: Fields = {};
  for (const [key, item] of Object.entries(fields)) {
    if (key.startsWith('lc_')) continue;
    const converted = plainValue(item, depth + 1);
    if (converted !== undefined) plain[key] = converted;
  }
  return plain;
}

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
