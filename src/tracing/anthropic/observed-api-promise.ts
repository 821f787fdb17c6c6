import { APIPromise } from '@anthropic-ai/sdk';

export interface ApiPromiseObserver<T, U> {
  /** The parsed body, when a caller first asks for it; what it returns is what callers receive. */
  parsed(data: T): U;
  /** The request failed (HTTP error status, connection, abort) or its body could not be read. */
  failed(error: unknown): void;
  /** The caller took the raw `Response` (`asResponse()`) and had not asked for the parsed body. */
  raw(): void;
}

/**
 * The Anthropic SDK's own APIPromise mapped with `_thenUnwrap`, as the SDK maps its own results, so
 * `await`, `.withResponse()`, `.asResponse()` and `_request_id` behave as untraced; `observer` hears
 * how the call ended however the caller consumes it. (The openai twin is ../openai/observed-api-promise.ts:
 * both SDKs are generated from one template, but their classes are their own.)
 */
export function observeApiPromise<T, U>(source: APIPromise<T>, observer: ApiPromiseObserver<T, U>): APIPromise<U> {
  const mapped = source._thenUnwrap((data) => observer.parsed(data));
  // Request failures reject the response promise, so this sees them even when nobody awaits the call.
  // Not through asResponse(), as for openai: in this SDK that tells the request a caller holds the raw
  // response, which stops it from sending the request again when the body fails to read.
  responseProps(source).then(undefined, (error: unknown) => observer.failed(error));

  let parsing = false;
  const parseStarted = () => {
    if (parsing) return;
    parsing = true;
    // The SDK caches the parse per promise: this joins the caller's parse, it does not read the body twice.
    APIPromise.prototype.then.call(mapped, undefined, (error: unknown) => observer.failed(error));
  };
  // withResponse parses without going through `then`; messages.stream() takes its stream that way.
  for (const name of ['then', 'catch', 'finally', 'withResponse'] as const) {
    const method = mapped[name] as (...args: unknown[]) => unknown;
    Object.defineProperty(mapped, name, {
      configurable: true,
      writable: true,
      value(this: unknown, ...args: unknown[]) {
        parseStarted();
        return method.apply(this, args);
      },
    });
  }
  const asResponse = mapped.asResponse;
  Object.defineProperty(mapped, 'asResponse', {
    configurable: true,
    writable: true,
    value(this: APIPromise<U>) {
      const response = asResponse.call(this);
      // `withResponse()` also calls asResponse, after starting the parse: only a raw-only caller ends here.
      response.then(
        () => {
          if (!parsing) observer.raw();
        },
        () => undefined,
      );
      return response;
    },
  });
  return mapped;
}

/** The promise of the response's headers that every promise of one request shares (`_responseProps`, internal to the SDK). */
function responseProps(source: APIPromise<unknown>): Promise<unknown> {
  const internal = source as unknown as { _responseProps?: () => Promise<unknown> };
  return typeof internal._responseProps === 'function' ? internal._responseProps() : source.asResponse();
}
