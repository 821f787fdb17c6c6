/**
 * What the openai and Anthropic SDKs' APIPromise share: both SDKs are generated from one template,
 * but each has classes of its own, so this speaks to them by shape.
 */
export interface SdkApiPromise<T> extends Promise<T> {
  _thenUnwrap<U>(transform: (data: T) => U): SdkApiPromise<U>;
  asResponse(): Promise<Response>;
  withResponse(): Promise<unknown>;
}

export interface ApiPromiseObserver<T, U> {
  /** The parsed body, when a caller first asks for it; what it returns is what callers receive. */
  parsed(data: T): U;
  /** The request failed (HTTP error status, connection, abort) or its body could not be read. */
  failed(error: unknown): void;
  /** The caller took the raw `Response` (`asResponse()`) and had not asked for the parsed body. */
  raw(response: Response): void;
}

/**
 * Returns the SDK's own APIPromise mapped with `_thenUnwrap`, the way the SDK maps its own results,
 * so `await`, `.withResponse()`, `.asResponse()` and `_request_id` behave exactly as untraced; and
 * reports to `observer` how the call ended, however the caller consumes it.
 *
 * `requestFailures` is a promise of the request that rejects when it fails, whether or not anyone
 * awaits the call or maps it further (`chat.completions.parse()` does).
 */
export function observeApiPromise<T, U, Mapped extends SdkApiPromise<U>>(
  source: SdkApiPromise<T>,
  observer: ApiPromiseObserver<T, U>,
  requestFailures: (source: SdkApiPromise<T>) => Promise<unknown> = (call) => call.asResponse(),
): Mapped {
  const mapped = source._thenUnwrap((data) => observer.parsed(data)) as Mapped;
  requestFailures(source).then(undefined, (error: unknown) => observer.failed(error));

  // The class's own `then`, before this instance's is replaced below.
  const then = mapped.then;
  let parsing = false;
  const parseStarted = () => {
    if (parsing) return;
    parsing = true;
    // The SDK caches the parse per promise: this joins the caller's parse, it does not read the body twice.
    then.call(mapped, undefined, (error: unknown) => observer.failed(error));
  };
  // The base APIPromise.withResponse parses without going through `then`.
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
    value(this: Mapped) {
      const response = asResponse.call(this);
      // `withResponse()` also calls asResponse, after starting the parse: only a raw-only caller ends here.
      response.then(
        (value) => {
          if (!parsing) observer.raw(value);
        },
        () => undefined,
      );
      return response;
    },
  });
  return mapped;
}
