import type { Response, ResponseCreateParams } from 'openai/resources/responses/responses';

/**
 * Responses API input and output in the OpenTelemetry GenAI shape: text parts as `text`, function
 * calls as `tool_call`, their outputs as `tool_call_response` (role `tool`); anything else keeps its
 * own object as a generic part.
 */
type GenAiPart = { type: string; [field: string]: unknown };
type Loose = { type?: string; role?: string; [field: string]: unknown };

export function toGenAiInputMessages(input: ResponseCreateParams['input']): { role: string; parts: GenAiPart[] }[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return [{ role: 'user', parts: [{ type: 'text', content: input }] }];
  return (input as unknown as readonly Loose[]).map((item) => {
    switch (item.type) {
      case 'function_call':
        return { role: 'assistant', parts: [{ type: 'tool_call', id: item.call_id, name: item.name, arguments: item.arguments }] };
      case 'function_call_output':
        return { role: 'tool', parts: [{ type: 'tool_call_response', id: item.call_id, response: item.output }] };
      case undefined:
      case 'message':
        return { role: item.role ?? 'user', parts: contentParts(item.content) };
      default:
        return { role: 'user', parts: [{ ...item, type: item.type }] };
    }
  });
}

export function toGenAiOutputMessages(
  response: Response,
  finishReason: string | undefined,
): { role: string; parts: GenAiPart[]; finish_reason?: string }[] {
  const parts = (response.output as unknown as readonly Loose[]).flatMap((item): GenAiPart[] => {
    if (item.type === 'message') return contentParts(item.content);
    if (item.type === 'function_call') return [{ type: 'tool_call', id: item.call_id, name: item.name, arguments: item.arguments }];
    return [{ ...item, type: item.type ?? 'unknown' }];
  });
  return [{ role: 'assistant', parts, ...(finishReason && { finish_reason: finishReason }) }];
}

function contentParts(content: unknown): GenAiPart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  return (content as Loose[]).map((part) => {
    if (part.type === 'input_text' || part.type === 'output_text') return { type: 'text', content: part.text };
    if (part.type === 'refusal') return { type: 'refusal', content: part.refusal };
    return { ...part, type: part.type ?? 'unknown' };
  });
}
