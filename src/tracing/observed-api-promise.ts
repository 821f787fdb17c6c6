import { context, trace, type Span } from '@opentelemetry/api';

/**
 * What the openai and Anthropic SDKs' APIPromise share: both SDKs are generated from one template,
 * but each has classes of its own, so this speaks to them by shape.
 */
export interface SdkApiPromise<T> extends Promise<T> {
  _thenUnwrap<U>(transform: (data: T) => U): SdkApiPromise<U>;
  asResponse(): Promise<Response>;
  withResponse(): Promise<unknown>;
}

/**
 * The method through which both SDKs' `then`, `catch`, `finally` and `withResponse` read the body,
 * once, caching it. Private in their types, like `_thenUnwrap`; the tests of both instrumentations
 * read bodies all four ways.
 */
interface ParsingPromise<U> {
  parse(): Promise<U>;
}

/** The span of one SDK call, and how it ends when the call does not end with a parsed body. */
export interface TracedCall {
  readonly span: Span;
  /** The request failed (thrown at once, an HTTP error status, connection, abort) or its body could not be read. */
  failed(error: unknown): void;
  /** The caller took the raw `Response` (`asResponse()`) and had not asked for the parsed body. */
  respondedRaw(): void;
}

/**
 * Makes the SDK's call with `call`'s span active and returns the SDK's own APIPromise mapped with
 * `_thenUnwrap`, the way the SDK maps its own results, so `await`, `.withResponse()`, `.asResponse()`
 * and `_request_id` behave exactly as untraced. `parsed` gets the body when a caller first asks for
 * it, and what it returns is what callers receive; `call` hears of every other ending, however the
 * caller consumes the call.
 *
 * `requestFailures` is a promise of the request that rejects when it fails, whether or not anyone
 * awaits the call or maps it further (`chat.completions.parse()` does).
 *
 * A call whose span does not record (sampled out) returns the SDK's promise as it is, so `parsed`
 * must give callers what they would get untraced: the body itself, or its stream observed.
 */
export function traceApiCall<T, U, Mapped extends SdkApiPromise<U>>(
  call: TracedCall,
  make: () => SdkApiPromise<T>,
  parsed: (data: T) => U,
  requestFailures: (source: SdkApiPromise<T>) => Promise<unknown> = (source) => source.asResponse(),
): Mapped {
  const active = trace.setSpan(context.active(), call.span);
  // A sampled-out call is the SDK's own, untouched: only its context carries the decision to what it starts.
  if (!call.span.isRecording()) return context.with(active, make) as unknown as Mapped;
  let source: SdkApiPromise<T>;
  try {
    source = context.with(active, make);
  } catch (error) {
    call.failed(error);
    throw error;
  }
  const mapped = source._thenUnwrap(parsed) as Mapped & ParsingPromise<U>;
  requestFailures(source).then(undefined, (error: unknown) => call.failed(error));
  // Two methods of this promise are replaced, not the four that read the body: they all read it
  // through parse(). Replacing all four (and asResponse) on every call cost ~20 µs per call, measured.
  let parsing = false;
  const parse = mapped.parse;
  mapped.parse = function (this: ParsingPromise<U>) {
    const body = parse.call(this);
    if (!parsing) {
      parsing = true;
      // The SDK caches the parse per promise: this joins the caller's parse, it does not read the body twice.
      body.then(undefined, (error: unknown) => call.failed(error));
    }
    return body;
  };
  const asResponse = mapped.asResponse;
  mapped.asResponse = function (this: Mapped) {
    const response = asResponse.call(this);
    // `withResponse()` also calls asResponse, after starting the parse: only a raw-only caller ends here.
    response.then(
      () => {
        if (!parsing) call.respondedRaw();
      },
      () => undefined,
    );
    return response;
  };
  return mapped;
}
