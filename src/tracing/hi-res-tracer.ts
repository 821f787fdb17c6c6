import {
  context as contextApi,
  trace,
  type AttributeValue,
  type Attributes,
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import { hrTime, isTimeInput } from '@opentelemetry/core';

/**
 * A tracer whose spans carry nanosecond times. Left to itself, the SDK starts a span at Date.now(),
 * whole milliseconds, so siblings started within one millisecond tie and MLflow shows them in
 * arbitrary order. Once a start time is given, the SDK also takes end and event times from
 * Date.now(), which could fall before that start; so those are supplied from the same clock.
 */
export function hiResTracer(tracer: Tracer): Tracer {
  const startSpan = (name: string, options: SpanOptions = {}, context?: Context): Span =>
    new HiResSpan(tracer.startSpan(name, { ...options, startTime: options.startTime ?? hrTime() }, context));

  function startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = args[args.length - 1] as F;
    const options = args.length > 1 ? (args[0] as SpanOptions) : {};
    const parent = args.length > 2 ? (args[1] as Context) : contextApi.active();
    const span = startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), () => fn(span) as ReturnType<F>);
  }

  return { startSpan, startActiveSpan: startActiveSpan as Tracer['startActiveSpan'] };
}

class HiResSpan implements Span {
  readonly #span: Span;

  constructor(span: Span) {
    this.#span = span;
  }

  spanContext(): SpanContext {
    return this.#span.spanContext();
  }

  setAttribute(key: string, value: AttributeValue): this {
    this.#span.setAttribute(key, value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    this.#span.setAttributes(attributes);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (isTimeInput(attributesOrTime)) this.#span.addEvent(name, attributesOrTime);
    else this.#span.addEvent(name, attributesOrTime, time ?? hrTime());
    return this;
  }

  addLink(link: Link): this {
    this.#span.addLink(link);
    return this;
  }

  addLinks(links: Link[]): this {
    this.#span.addLinks(links);
    return this;
  }

  setStatus(status: SpanStatus): this {
    this.#span.setStatus(status);
    return this;
  }

  updateName(name: string): this {
    this.#span.updateName(name);
    return this;
  }

  end(endTime?: TimeInput): void {
    this.#span.end(endTime ?? hrTime());
  }

  isRecording(): boolean {
    return this.#span.isRecording();
  }

  recordException(exception: Exception, time?: TimeInput): void {
    this.#span.recordException(exception, time ?? hrTime());
  }
}
