import { diag } from '@opentelemetry/api';

/** How a stream's consumption ended, when it did not run to the end. */
export type EarlyEnd = 'consumer_stopped' | 'aborted';

export interface StreamObserver<Item> {
  /** Each item as it arrives; false keeps it from the caller (an item only the observer asked for). */
  item(item: Item): boolean;
  completed(): void;
  /** The consumer left early (break, return(), a throw in its loop) or the request's signal aborted it. */
  endedEarly(reason: EarlyEnd): void;
  failed(error: unknown): void;
}

/** What the openai and Anthropic SDKs' Stream share (one template, classes of their own). */
export interface SdkStream<Item> extends AsyncIterable<Item> {
  controller: AbortController;
}

type StreamItem<S> = S extends AsyncIterable<infer Item> ? Item : never;

type SdkStreamClass<Item, Client> = new (
  iterator: () => AsyncIterator<Item>,
  controller: AbortController,
  client: Client,
) => SdkStream<Item>;

/**
 * A Stream of the SDK's own class that hands the caller the same items as `stream` (for-await,
 * `tee()`, `toReadableStream()`, `controller`, and what the SDK builds on it, such as Anthropic's
 * MessageStream, all work as before) and tells `observer` how each iteration ended: completed,
 * endedEarly or failed. (A second iteration fails at once in the SDK, as without observing.)
 */
export function observeStream<S extends SdkStream<unknown>>(stream: S, client: unknown, observer: StreamObserver<StreamItem<S>>): S {
  const items = stream as unknown as AsyncIterable<StreamItem<S>>;
  const iterate = items[Symbol.asyncIterator].bind(items);
  const observed = () => observe(iterate(), stream.controller.signal, observer);
  // openai 4.0 to 4.12 build a Stream from the HTTP response, not from an iterator (nor have they tee()): the stream itself is observed.
  if (typeof (stream as { iterator?: unknown }).iterator !== 'function') {
    Object.defineProperty(stream, Symbol.asyncIterator, { value: observed, configurable: true, writable: true });
    return stream;
  }
  const StreamClass = stream.constructor as SdkStreamClass<StreamItem<S>, unknown>;
  return new StreamClass(observed, stream.controller, client) as S;
}

async function* observe<Item>(source: AsyncIterator<Item>, signal: AbortSignal, observer: StreamObserver<Item>): AsyncGenerator<Item> {
  let settled = false;
  try {
    for (let next = await source.next(); !next.done; next = await source.next()) {
      if (deliver(observer, next.value)) yield next.value;
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

/** An item the observer cannot make sense of still reaches the caller, as it would untraced. */
function deliver<Item>(observer: StreamObserver<Item>, item: Item): boolean {
  try {
    return observer.item(item);
  } catch (error) {
    diag.warn('otel-mlflow: could not record a streamed item', error);
    return true;
  }
}

/** A streamed call's span, as the LLM instrumentations end it. */
export interface StreamedCallSpan<Result> {
  firstChunk(): void;
  succeeded(result: Result): void;
  endedEarly(reason: EarlyEnd, received: Result): void;
  failed(error: unknown): void;
}

/** Builds the call's result from its streamed events (a message, a response), as far as they went. */
export interface StreamAccumulator<Item, Result> {
  add(item: Item): void;
  result(): Result;
}

/**
 * `observeStream` for a call whose span ends with what its events add up to: time to the first
 * event, then the whole result, or as much as arrived when the stream ended early.
 */
export function observeAccumulatedStream<S extends SdkStream<unknown>, Result>(
  stream: S,
  client: unknown,
  call: StreamedCallSpan<Result>,
  accumulator: StreamAccumulator<StreamItem<S>, Result>,
): S {
  let events = 0;
  return observeStream(stream, client, {
    item: (event) => {
      if (events++ === 0) call.firstChunk();
      accumulator.add(event);
      return true;
    },
    completed: () => call.succeeded(accumulator.result()),
    endedEarly: (reason) => call.endedEarly(reason, accumulator.result()),
    failed: (error) => call.failed(error),
  });
}
