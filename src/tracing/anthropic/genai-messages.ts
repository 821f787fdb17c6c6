import type { Message, MessageCreateParams } from '@anthropic-ai/sdk/resources/messages';

/**
 * Anthropic messages in the OpenTelemetry GenAI shape (`gen_ai.input.messages`,
 * `gen_ai.output.messages`, `gen_ai.system_instructions`): text becomes `{type: 'text', content}`,
 * `tool_use` a `tool_call`, `tool_result` a `tool_call_response`, thinking `reasoning`; any other
 * block (images, documents, server tools) keeps Anthropic's own object, as a generic part with its `type`.
 */
type GenAiPart = { type: string; [field: string]: unknown };

interface GenAiMessage {
  role: string;
  parts: GenAiPart[];
  finish_reason?: string;
}

type Block = { type: string; [field: string]: unknown };

export function toGenAiInputMessages(messages: MessageCreateParams['messages']): GenAiMessage[] {
  return messages.map((message) => ({ role: message.role, parts: partsOf(message.content as string | readonly Block[]) }));
}

export function toGenAiSystemInstructions(system: MessageCreateParams['system']): GenAiPart[] | undefined {
  if (system === undefined) return undefined;
  return partsOf(system as string | readonly Block[]);
}

export function toGenAiOutputMessages(message: Message): GenAiMessage[] {
  return [
    {
      role: message.role,
      parts: partsOf(message.content as unknown as readonly Block[]),
      ...(message.stop_reason && { finish_reason: message.stop_reason }),
    },
  ];
}

function partsOf(content: string | readonly Block[]): GenAiPart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  return content.map((block) => {
    switch (block.type) {
      case 'text':
        return { type: 'text', content: block.text };
      case 'thinking':
        return { type: 'reasoning', content: block.thinking };
      case 'tool_use':
        return { type: 'tool_call', id: block.id, name: block.name, arguments: block.input };
      case 'tool_result':
        return { type: 'tool_call_response', id: block.tool_use_id, response: block.content };
      default:
        return { ...block };
    }
  });
}
