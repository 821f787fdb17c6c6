import { tryParseJson } from './python-json.ts';

/** Self-hosted MLflow's preview column is String(1000) (TRACE_REQUEST_RESPONSE_PREVIEW_MAX_LENGTH_OSS). */
const PREVIEW_MAX_LENGTH = 1000;

type Message = Record<string, unknown> & { role: unknown; content: unknown };

function isMessage(item: unknown): item is Message {
  return typeof item === 'object' && item !== null && !Array.isArray(item) && 'role' in item && 'content' in item;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Port of mlflow/tracing/utils/truncation.py `_try_extract_messages`.
function extractMessages(value: unknown): Message[] | undefined {
  if (!isObject(value)) return undefined;
  const { messages, choices, input, output } = value;
  if (Array.isArray(messages) && messages.length > 0) return messages.filter(isMessage);
  if (Array.isArray(choices) && choices.length > 0 && isObject(choices[0]) && isMessage(choices[0].message)) {
    return [choices[0].message];
  }
  if (Array.isArray(input) && input.length > 0) return input.filter(isMessage);
  if (Array.isArray(output) && output.length > 0) return output.filter(isMessage);
  if ('request' in value) return extractMessages(value.request);
  return undefined;
}

function textOf(message: Message): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    for (const part of content) {
      if (typeof part === 'string') return part;
      if (isObject(part) && (part.type === 'text' || part.type === 'output_text')) return typeof part.text === 'string' ? part.text : '';
    }
  }
  return '';
}

/**
 * The request/response preview MLflow derives from the root span's stored inputs/outputs (the
 * JSON-encoded attribute string): the last message of `role` for chat shapes, else the raw text.
 */
export function truncatedPreview(stored: string, role: 'user' | 'assistant'): string {
  let content = '';
  const parsed = tryParseJson(stored);
  const messages = parsed === undefined ? undefined : extractMessages(parsed.value);
  if (messages !== undefined && messages.length > 0) {
    const last = [...messages].reverse().find((message) => message.role === role) ?? messages[messages.length - 1];
    if (last !== undefined) content = textOf(last);
  }
  const codePoints = Array.from(content || stored);
  return codePoints.length <= PREVIEW_MAX_LENGTH ? codePoints.join('') : `${codePoints.slice(0, PREVIEW_MAX_LENGTH - 3).join('')}...`;
}
