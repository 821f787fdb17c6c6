/**
 * The AI SDK's messages (ModelMessage: `{role, content}` with content a string or typed parts) in
 * OpenAI's chat shape, which MLflow renders as a conversation: inputs `{messages}`, outputs
 * `{choices}`. Only the parts MLflow can show are converted; files and images keep their part.
 */
export interface OpenAIMessage {
  role: string;
  content: unknown;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
}

interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

type Part = Record<string, unknown>;

export function chatInputs(instructions: unknown, messages: unknown): { messages: OpenAIMessage[] } {
  return { messages: [...systemMessages(instructions), ...(Array.isArray(messages) ? messages.flatMap(openAIMessages) : [])] };
}

/** One assistant turn, as the model answered it: its text, and the tools it asked for. */
export function chatOutputs(content: unknown, finishReason: unknown): { choices: unknown[] } {
  const parts = Array.isArray(content) ? (content as unknown[]).filter(isPart) : [];
  const message = assistantMessage(parts);
  return { choices: [{ index: 0, message, ...(typeof finishReason === 'string' && { finish_reason: finishReason }) }] };
}

/** `instructions` is a string, a system message, or a list of them. */
function systemMessages(instructions: unknown): OpenAIMessage[] {
  if (typeof instructions === 'string') return [{ role: 'system', content: instructions }];
  const list = Array.isArray(instructions) ? instructions : instructions === undefined ? [] : [instructions];
  return list.flatMap((message) => (isPart(message) ? [{ role: 'system', content: textOf(message.content) }] : []));
}

function openAIMessages(message: unknown): OpenAIMessage[] {
  if (!isPart(message) || typeof message.role !== 'string') return [];
  const { role, content } = message;
  if (typeof content === 'string') return [{ role, content }];
  const parts = Array.isArray(content) ? content.filter(isPart) : [];
  if (role === 'assistant') return [assistantMessage(parts)];
  if (role === 'tool') {
    return parts.flatMap((part) =>
      part.type === 'tool-result' ? [{ role: 'tool', content: toolResultText(part.output), tool_call_id: String(part.toolCallId) }] : [],
    );
  }
  return [{ role, content: contentOf(parts) }];
}

function assistantMessage(parts: Part[]): OpenAIMessage {
  const calls = parts.flatMap((part): OpenAIToolCall[] =>
    part.type === 'tool-call'
      ? [
          {
            id: String(part.toolCallId),
            type: 'function',
            function: {
              name: String(part.toolName),
              arguments: typeof part.input === 'string' ? part.input : JSON.stringify(part.input ?? {}),
            },
          },
        ]
      : [],
  );
  const text = parts.flatMap((part) => (part.type === 'text' && typeof part.text === 'string' ? [part.text] : []));
  return { role: 'assistant', content: text.length > 0 ? text.join('') : null, ...(calls.length > 0 && { tool_calls: calls }) };
}

/** Text alone as a string (what previews show); with files or images, a list of OpenAI-like parts. */
function contentOf(parts: Part[]): unknown {
  if (parts.every((part) => part.type === 'text')) return parts.map((part) => part.text).join('');
  return parts.map((part) => (part.type === 'text' ? { type: 'text', text: part.text } : part));
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return Array.isArray(content)
    ? content.flatMap((part) => (isPart(part) && typeof part.text === 'string' ? [part.text] : [])).join('')
    : '';
}

/** A tool result as OpenAI carries it: text, or JSON text of the value. */
function toolResultText(output: unknown): string {
  if (!isPart(output)) return JSON.stringify(output ?? null);
  if (output.type === 'text' || output.type === 'error-text') return String(output.value);
  return JSON.stringify(output.value ?? null);
}

function isPart(value: unknown): value is Part {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
