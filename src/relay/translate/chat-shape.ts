import { isRecord } from './read-values.ts';

/**
 * OpenAI's chat shapes, which MLflow renders best: inputs `{"messages": [...]}` (the request preview
 * is the last user message) and outputs `{"choices": [{"message": ...}]}` (the response preview is
 * the assistant's text).
 */
export interface ChatMessage {
  role: string;
  content: unknown;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
}

export interface ChatToolCall {
  id?: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatChoice {
  index: number;
  message: ChatMessage;
  finish_reason?: string;
}

export function chatInputs(messages: ChatMessage[]): { messages: ChatMessage[] } {
  return { messages };
}

export function chatOutputs(messages: readonly { message: ChatMessage; finishReason?: string | undefined }[]): { choices: ChatChoice[] } {
  return {
    choices: messages.map(({ message, finishReason }, index) => ({
      index,
      message,
      ...(finishReason !== undefined && { finish_reason: finishReason }),
    })),
  };
}

/** OpenAI carries tool arguments as JSON text; conventions may send them as an object. */
export function toolCall(id: unknown, name: unknown, args: unknown): ChatToolCall {
  return {
    ...(typeof id === 'string' && id !== '' && { id }),
    type: 'function',
    function: { name: typeof name === 'string' ? name : '', arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
  };
}

/**
 * A tool definition in OpenAI's `{"type": "function", "function": {...}}` shape, which MLflow's
 * `mlflow.chat.tools` holds; the GenAI conventions' flat `{type, name, description, parameters}` is
 * lifted into it. Anything else is no tool definition.
 */
export function chatTool(definition: unknown): Record<string, unknown> | undefined {
  if (!isRecord(definition)) return undefined;
  if (isRecord(definition.function)) return { ...definition, type: definition.type ?? 'function' };
  if (typeof definition.name !== 'string') return undefined;
  const { type, name, description, parameters } = definition;
  return {
    type: typeof type === 'string' ? type : 'function',
    function: { name, ...(description !== undefined && { description }), ...(parameters !== undefined && { parameters }) },
  };
}

export function chatTools(definitions: unknown): Record<string, unknown>[] | undefined {
  if (!Array.isArray(definitions)) return undefined;
  const tools = definitions.flatMap((definition): Record<string, unknown>[] => {
    const tool = chatTool(definition);
    return tool ? [tool] : [];
  });
  return tools.length > 0 ? tools : undefined;
}
