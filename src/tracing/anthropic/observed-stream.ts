import { diag } from '@opentelemetry/api';
import type Anthropic from '@anthropic-ai/sdk';
import { Stream } from '@anthropic-ai/sdk/core/streaming';

/** How a stream's consumption ended, when it did not run to the end. */
export type EarlyEnd = 'consumer_stopped' | 'aborted';

export interface StreamObserver<Item> {
  item(item: Item): void;
  completed(): void;
  /** The consumer left early (break, return(), a throw in its loop) or the request's signal aborted it. */
  endedEarly(reason: EarlyEnd): void;
  failed(error: unknown): void;
}

/**
 * A Stream that hands the caller the same events as `stream` (for-await, `tee()`,
 * `toReadableStream()`, `controller`, and a MessageStream built on it all work as before) and tells
 * `observer` how its iteration ended.
 */
export function observeStream<Item>(stream: Stream<Item>, client: Anthropic, observer: StreamObserver<Item>): Stream<Item> {
  return new Stream(() => observe(stream[Symbol.asyncIterator](), stream.controller.signal, observer), stream.controller, client);
}

async function* observe<Item>(source: AsyncIterator<Item>, signal: AbortSignal, observer: StreamObserver<Item>): AsyncGenerator<Item> {
  let settled = false;
  try {
    for (let next = await source.next(); !next.done; next = await source.next()) {
      see(observer, next.value);
      yield next.value;
    }
    settled = true;
    // The SDK ends a stream quietly when its request is aborted; only the signal tells the two apart.
    if (signal.aborted) observer.endedEarly('aborted');
    else observer.completed();
  } catch (error) {
    settled = true;
    observer.failed(error);
    throw error;
  } finally {
    if (!settled) {
      observer.endedEarly('consumer_stopped');
      // Lets the SDK abort the request, as it does when a caller breaks out of its own stream.
      await source.return?.();
    }
  }
}

/** An event the observer cannot make sense of still reaches the caller, as it would untraced. */
function see<Item>(observer: StreamObserver<Item>, item: Item): void {
  try {
    observer.item(item);
  } catch (error) {
    diag.warn('otel-mlflow: could not record a streamed event', error);
  }
}
