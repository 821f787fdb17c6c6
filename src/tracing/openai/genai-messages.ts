import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartRefusal,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';

/**
 * OpenAI chat messages in the OpenTelemetry GenAI shape (`gen_ai.input.messages` /
 * `gen_ai.output.messages`): `{role, parts: [...]}`. Text becomes `{type: 'text', content}`, tool
 * calls `tool_call`, tool results `tool_call_response`; any other part (images, audio, files) keeps
 * OpenAI's own object, which the conventions allow as a generic part with its `type`.
 */
export interface GenAiMessage {
  role: string;
  parts: GenAiPart[];
  name?: string;
}

export interface GenAiOutputMessage extends GenAiMessage {
  finish_reason?: string;
}

type GenAiPart = { type: string; [field: string]: unknown };

interface AssistantMessage {
  content?: string | readonly (ChatCompletionContentPart | ChatCompletionContentPartRefusal)[] | null;
  refusal?: string | null;
  tool_calls?: readonly ChatCompletionMessageToolCall[];
}

export function toGenAiInputMessages(messages: readonly ChatCompletionMessageParam[]): GenAiMessage[] {
  return messages.map((message) => {
    const named = 'name' in message && message.name ? { name: message.name } : {};
    switch (message.role) {
      case 'tool':
        return { role: 'tool', parts: [{ type: 'tool_call_response', id: message.tool_call_id, response: message.content }] };
      case 'assistant':
        return { role: 'assistant', parts: assistantParts(message), ...named };
      default:
        return { role: message.role, parts: contentParts(message.content), ...named };
    }
  });
}

export function toGenAiOutputMessages(
  choices: readonly { message: AssistantMessage; finish_reason: string | null }[],
): GenAiOutputMessage[] {
  return choices.map((choice) => ({
    role: 'assistant',
    parts: assistantParts(choice.message),
    ...(choice.finish_reason && { finish_reason: choice.finish_reason }),
  }));
}

function assistantParts(message: AssistantMessage): GenAiPart[] {
  const parts = contentParts(message.content);
  if (message.refusal) parts.push({ type: 'refusal', content: message.refusal });
  for (const call of message.tool_calls ?? []) {
    parts.push(
      call.type === 'custom'
        ? { type: 'tool_call', id: call.id, name: call.custom.name, arguments: call.custom.input }
        : { type: 'tool_call', id: call.id, name: call.function.name, arguments: call.function.arguments },
    );
  }
  return parts;
}

function contentParts(
  content: string | readonly (ChatCompletionContentPart | ChatCompletionContentPartRefusal)[] | null | undefined,
): GenAiPart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  return (content ?? []).map((part) => (part.type === 'text' ? { type: 'text', content: part.text } : { ...part }));
}
