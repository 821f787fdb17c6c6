import type { ContentBlock, Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';

/** A Message folded from stream events; `stop_reason` stays null when the stream never said why it stopped. */
export type StreamedMessage = Message;

type Block = ContentBlock & { input?: unknown };

/**
 * Folds streamed events into the Message a non-streaming call returns, so MLflow renders both alike:
 * text and thinking concatenated, tool input JSON gathered and parsed when its block stops, usage from
 * `message_start` updated by `message_delta` (whose counters are totals, not increments). Events are
 * never mutated: a MessageStream built on the same stream keeps its own snapshot.
 */
export class MessageAccumulator {
  #message: Message | undefined;
  readonly #blocks: Block[] = [];
  /** Tool input JSON by block index, until the block stops. */
  readonly #partialInput = new Map<number, string>();

  add(event: RawMessageStreamEvent): void {
    switch (event.type) {
      case 'message_start':
        this.#message = { ...event.message, content: [], usage: { ...event.message.usage } };
        this.#blocks.push(...(event.message.content as Block[]).map((block) => ({ ...block })));
        return;
      case 'content_block_start':
        this.#blocks[event.index] = { ...event.content_block } as Block;
        return;
      case 'content_block_delta':
        this.#addDelta(event.index, event.delta);
        return;
      case 'content_block_stop': {
        const json = this.#partialInput.get(event.index);
        const block = this.#blocks[event.index];
        if (json !== undefined && block) block.input = parseInput(json);
        this.#partialInput.delete(event.index);
        return;
      }
      case 'message_delta': {
        if (!this.#message) return;
        const usage = this.#message.usage;
        this.#message.stop_reason = event.delta.stop_reason;
        this.#message.stop_sequence = event.delta.stop_sequence;
        usage.output_tokens = event.usage.output_tokens;
        if (event.usage.input_tokens != null) usage.input_tokens = event.usage.input_tokens;
        if (event.usage.cache_creation_input_tokens != null) usage.cache_creation_input_tokens = event.usage.cache_creation_input_tokens;
        if (event.usage.cache_read_input_tokens != null) usage.cache_read_input_tokens = event.usage.cache_read_input_tokens;
        return;
      }
      default:
        return;
    }
  }

  #addDelta(index: number, delta: Extract<RawMessageStreamEvent, { type: 'content_block_delta' }>['delta']): void {
    const block = this.#blocks[index];
    if (!block) return;
    switch (delta.type) {
      case 'text_delta':
        if (block.type === 'text') block.text += delta.text;
        return;
      case 'input_json_delta':
        this.#partialInput.set(index, (this.#partialInput.get(index) ?? '') + delta.partial_json);
        return;
      case 'thinking_delta':
        if (block.type === 'thinking') block.thinking += delta.thinking;
        return;
      case 'signature_delta':
        if (block.type === 'thinking') block.signature = delta.signature;
        return;
      case 'citations_delta':
        if (block.type === 'text') block.citations = [...(block.citations ?? []), delta.citation];
        return;
    }
  }

  /** What arrived so far; a tool block whose input never finished keeps the JSON text it got. */
  result(): StreamedMessage | undefined {
    if (!this.#message) return undefined;
    const content = this.#blocks.filter(Boolean).map((block, index) => {
      const partial = this.#partialInput.get(index);
      return (partial === undefined ? block : { ...block, input: partial }) as ContentBlock;
    });
    return { ...this.#message, content };
  }
}

function parseInput(json: string): unknown {
  if (json === '') return {};
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}
