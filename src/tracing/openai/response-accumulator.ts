import type { Response, ResponseOutputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';

type Item = ResponseOutputItem & { content?: { type: string; text?: string }[]; arguments?: string };

/**
 * Folds Responses API stream events into the Response a non-streaming call returns: the final
 * `response.completed` (or `.incomplete` / `.failed`) carries it whole; until one arrives, the
 * latest snapshot with the output items built from their deltas, so a stream that ends early still
 * shows what arrived. Events are never mutated.
 */
export class ResponseAccumulator {
  #snapshot: Response | undefined;
  #final: Response | undefined;
  readonly #items: Item[] = [];

  add(event: ResponseStreamEvent): void {
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        this.#snapshot = event.response;
        return;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        this.#final = event.response;
        return;
      case 'response.output_item.added':
      case 'response.output_item.done':
        this.#items[event.output_index] = copy(event.item as Item);
        return;
      case 'response.output_text.delta': {
        const item = this.#items[event.output_index];
        if (!item?.content) return;
        const part = item.content[event.content_index] ?? { type: 'output_text', text: '', annotations: [] };
        item.content[event.content_index] = { ...part, text: (part.text ?? '') + event.delta };
        return;
      }
      case 'response.function_call_arguments.delta': {
        const item = this.#items[event.output_index];
        if (item?.type === 'function_call') item.arguments = (item.arguments ?? '') + event.delta;
        return;
      }
      default:
        return;
    }
  }

  result(): Response | undefined {
    if (this.#final) return this.#final;
    if (!this.#snapshot) return undefined;
    return { ...this.#snapshot, output: this.#items.filter(Boolean) as ResponseOutputItem[] };
  }
}

function copy(item: Item): Item {
  return { ...item, ...(Array.isArray(item.content) && { content: item.content.map((part) => ({ ...part })) }) } as Item;
}
