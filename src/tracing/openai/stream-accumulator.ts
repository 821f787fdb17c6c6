import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';

/** A ChatCompletion folded from chunks; `finish_reason` stays null for a choice the stream never finished. */
export interface StreamedCompletion extends Omit<ChatCompletion, 'choices'> {
  choices: (Omit<ChatCompletion.Choice, 'finish_reason'> & { finish_reason: ChatCompletion.Choice['finish_reason'] | null })[];
}

interface ToolCallState {
  id: string;
  type: 'function' | 'custom';
  name: string;
  /** Function arguments, or a custom tool's input: both arrive in pieces. */
  input: string;
}

interface ChoiceState {
  content: string | null;
  refusal: string | null;
  toolCalls: ToolCallState[];
  finishReason: ChatCompletion.Choice['finish_reason'] | null;
}

/**
 * Folds streamed chunks into the completion a non-streaming call returns, so MLflow renders both
 * alike: text concatenated, and tool-call deltas merged by index (id, type and name from the first
 * delta that has them, arguments concatenated in order).
 */
export class ChatCompletionAccumulator {
  #id = '';
  #model = '';
  #created = 0;
  #systemFingerprint: string | undefined;
  #usage: CompletionUsage | undefined;
  readonly #choices: ChoiceState[] = [];

  add(chunk: ChatCompletionChunk): void {
    this.#id ||= chunk.id;
    this.#model ||= chunk.model;
    this.#created ||= chunk.created;
    this.#systemFingerprint ??= chunk.system_fingerprint;
    if (chunk.usage) this.#usage = chunk.usage;
    for (const { index, delta, finish_reason } of chunk.choices ?? []) {
      const choice = this.#choices[index] ?? { content: null, refusal: null, toolCalls: [], finishReason: null };
      this.#choices[index] = choice;
      if (typeof delta.content === 'string') choice.content = (choice.content ?? '') + delta.content;
      if (typeof delta.refusal === 'string') choice.refusal = (choice.refusal ?? '') + delta.refusal;
      for (const part of delta.tool_calls ?? []) {
        const call = choice.toolCalls[part.index] ?? { id: '', type: 'function', name: '', input: '' };
        choice.toolCalls[part.index] = call;
        call.id ||= part.id ?? '';
        if (part.type) call.type = part.type;
        const piece = part.function ?? part.custom;
        call.name ||= piece?.name ?? '';
        call.input += part.function?.arguments ?? part.custom?.input ?? '';
      }
      if (finish_reason) choice.finishReason = finish_reason;
    }
  }

  result(): StreamedCompletion {
    return {
      id: this.#id,
      object: 'chat.completion',
      created: this.#created,
      model: this.#model,
      // A sparse array when a server skipped an index; keep positions so `index` stays meaningful.
      choices: Array.from(this.#choices, (choice, index) => ({
        index,
        message: {
          role: 'assistant',
          content: choice?.content ?? null,
          refusal: choice?.refusal ?? null,
          ...(choice && choice.toolCalls.length > 0 && { tool_calls: choice.toolCalls.filter(Boolean).map(toToolCall) }),
        },
        logprobs: null,
        finish_reason: choice?.finishReason ?? null,
      })),
      ...(this.#usage && { usage: this.#usage }),
      ...(this.#systemFingerprint && { system_fingerprint: this.#systemFingerprint }),
    };
  }
}

function toToolCall(call: ToolCallState): ChatCompletionMessageToolCall {
  return call.type === 'custom'
    ? { id: call.id, type: 'custom', custom: { name: call.name, input: call.input } }
    : { id: call.id, type: 'function', function: { name: call.name, arguments: call.input } };
}
