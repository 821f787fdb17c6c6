import { answerFromConversation, answerFromToolResults, type ToolResult } from './offline-answer.ts';
import { chooseToolCalls, type OfflineTool, type OfflineToolCall, type OfflineToolChoice } from './offline-tool-calls.ts';

/** A chat message as the offline model reads it (already checked to be an object with a role). */
export interface OfflineMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
  tool_call_id?: unknown;
}

export interface OfflineRequest {
  messages: OfflineMessage[];
  tools: OfflineTool[];
  toolChoice: OfflineToolChoice;
  parallelToolCalls: boolean;
}

export type OfflineReply = { kind: 'text'; text: string } | { kind: 'tool_calls'; calls: OfflineToolCall[] };

/**
 * What the offline model says: tool calls while the latest question has no tool results yet and a
 * tool fits it, else an answer from the tool results, else an answer from the corpus.
 */
export function composeReply(request: OfflineRequest): OfflineReply {
  const { messages } = request;
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  const { question, context } = splitQuestion(lastUser < 0 ? '' : messageText(messages[lastUser]!.content));
  const sinceQuestion = messages.slice(lastUser + 1);
  const results = toolResults(sinceQuestion);

  if (results.length > 0) return { kind: 'text', text: answerFromToolResults(question, results) };
  if (request.tools.length > 0 && request.toolChoice !== 'none') {
    const calls = chooseToolCalls(question, request.tools, request.toolChoice);
    if (calls.length > 0) return { kind: 'tool_calls', calls: request.parallelToolCalls ? calls : calls.slice(0, 1) };
  }
  const conversation = [
    ...messages
      .filter((m, i) => i !== lastUser && (m.role === 'system' || m.role === 'developer' || m.role === 'user'))
      .map((m) => messageText(m.content)),
    context,
  ];
  return { kind: 'text', text: answerFromConversation(question, conversation) };
}

/** The text of a message's content: a string, or the text parts of a content array. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) =>
      part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '',
    )
    .filter((text) => text !== '')
    .join('\n');
}

const QUESTION_MARKER = /^[ \t]*(?:question|query|q)[ \t]*:[ \t]*/gim;

/**
 * RAG prompts put retrieved passages and the question in one message; a line starting 'Question:'
 * (or 'Query:') separates them. Without a marker the whole message is the question.
 */
function splitQuestion(text: string): { question: string; context: string } {
  const markers = [...text.matchAll(QUESTION_MARKER)];
  const last = markers.at(-1);
  if (!last) return { question: text.trim(), context: '' };
  const question = text.slice(last.index + last[0].length).trim();
  return question === '' ? { question: text.trim(), context: '' } : { question, context: text.slice(0, last.index) };
}

/** Tool messages paired with the call they answer, so the answer knows which tool said what. */
function toolResults(messages: OfflineMessage[]): ToolResult[] {
  const calls = new Map<string, { name: string; arguments: string }>();
  for (const message of messages) {
    if (message.role !== 'assistant' || !Array.isArray(message.tool_calls)) continue;
    for (const call of message.tool_calls as unknown[]) {
      const { id, function: fn } = (call ?? {}) as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
      if (typeof id === 'string' && typeof fn?.name === 'string') {
        calls.set(id, { name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : '' });
      }
    }
  }
  return messages
    .filter((m) => m.role === 'tool')
    .map((m) => {
      const call = typeof m.tool_call_id === 'string' ? calls.get(m.tool_call_id) : undefined;
      return { name: call?.name ?? 'tool', arguments: call?.arguments ?? '', content: messageText(m.content) };
    });
}
