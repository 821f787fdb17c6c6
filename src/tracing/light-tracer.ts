import {
  context as contextApi,
  diag,
  INVALID_SPAN_CONTEXT,
  SamplingDecision,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import {
  AddAttributeDecision,
  addHrTimes,
  cleanAttributes,
  cleanSimpleAttributes,
  millisToHrTime,
  hrTimeDuration,
  isTimeInput,
  isTracingSuppressed,
  maybeAddAttribute,
  timeInputToHrTime,
  type InstrumentationScope,
} from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_STACKTRACE, ATTR_EXCEPTION_TYPE } from '@opentelemetry/semantic-conventions';
import { RandomIdGenerator, type ReadableSpan, type Sampler, type SpanProcessor, type TimedEvent } from '@opentelemetry/sdk-trace';

/** The SDK's defaults (TracerProvider): the same spans keep the same attributes, events and links whichever tracer made them. */
const LIMITS = { attributeCountLimit: 128, attributeValueLengthLimit: Number.POSITIVE_INFINITY, eventCountLimit: 128, linkCountLimit: 128 };
const EVENT_ATTRIBUTE_LIMITS = { attributeCountLimit: 128, attributeValueLengthLimit: LIMITS.attributeValueLengthLimit };

export interface LightTracerOptions {
  /** The provider's: the tool's spans and the program's own share one resource. */
  resource: Resource;
  sampler: Sampler;
  /** The provider's processors, in its order. */
  spanProcessors: readonly SpanProcessor[];
  scope: InstrumentationScope;
}

/**
 * The tracer of the tool's own instrumentation (requests served, LLM calls), beside the provider that
 * serves everything else (a program's own spans, Next.js's): the same sampler, processors and resource,
 * and spans the processors read as the SDK's, with nanosecond times.
 *
 * Not the SDK's Tracer, because of what it costs per request: the SDK checks every attribute value for
 * cycles with a WeakSet of its own (twice for those given at the start), and under load those WeakSets
 * were a tenth of what a traced program allocated per request. The tool's attributes are plain
 * strings, numbers and booleans: those are taken as they are, and any other value gets the SDK's own
 * check and copy. The SDK's spans also start at Date.now(), whole milliseconds, so that siblings
 * started within one millisecond tie and MLflow shows them in arbitrary order.
 */
export function lightTracer(options: LightTracerOptions): Tracer {
  const ids = new RandomIdGenerator();
  const { sampler, spanProcessors } = options;
  const shared = { resource: options.resource, scope: options.scope, processors: spanProcessors };

  const startSpan = (name: string, spanOptions: SpanOptions = {}, parentContext: Context = contextApi.active()): Span => {
    const context = spanOptions.root ? trace.deleteSpan(parentContext) : parentContext;
    if (isTracingSuppressed(context)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parent = trace.getSpanContext(context);
    const validParent = parent && trace.isSpanContextValid(parent) ? parent : undefined;
    const traceId = validParent?.traceId ?? ids.generateTraceId();
    const spanId = ids.generateSpanId();
    const kind = spanOptions.kind ?? SpanKind.INTERNAL;
    const attributes = startAttributes(spanOptions.attributes);
    const links = (spanOptions.links ?? []).map(cleanLink);
    const sampling = sampler.shouldSample(context, traceId, name, kind, attributes, links);
    const spanContext: SpanContext = {
      traceId,
      spanId,
      traceFlags: sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
      traceState: sampling.traceState ?? validParent?.traceState,
    };
    if (sampling.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    const span = new LightSpan(shared, spanContext, validParent, name, kind, toHrTime(spanOptions.startTime), links);
    span.startWith(sampling.attributes ? Object.assign(attributes, sampling.attributes) : attributes);
    for (const processor of spanProcessors) processor.onStart(span, context);
    return span;
  };

  function startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = args[args.length - 1] as F;
    const spanOptions = args.length > 1 ? (args[0] as SpanOptions) : {};
    const parent = args.length > 2 ? (args[1] as Context) : contextApi.active();
    const span = startSpan(name, spanOptions, parent);
    return contextApi.with(trace.setSpan(parent, span), () => fn(span) as ReturnType<F>);
  }

  return { startSpan, startActiveSpan: startActiveSpan as Tracer['startActiveSpan'] };
}

/** What the sampler sees: the start attributes without undefined values, as the SDK gives them. */
function startAttributes(attributes: Attributes | undefined): Attributes {
  const kept: Attributes = {};
  if (attributes)
    for (const key in attributes) if (Object.hasOwn(attributes, key) && attributes[key] !== undefined) kept[key] = attributes[key];
  return kept;
}

function cleanLink(link: Link): Link {
  return { context: link.context, ...cleanAttributes(link.attributes, EVENT_ATTRIBUTE_LIMITS) };
}

function toHrTime(time: TimeInput | undefined): HrTime {
  return time === undefined ? now() : timeInputToHrTime(time);
}

/** The process's time origin, fixed at its start: converted once, not at every span's start and end as the SDK's hrTime() does. */
const ORIGIN = millisToHrTime(performance.timeOrigin);

/** The SDK's hrTime(), by its own arithmetic, less the origin's conversion. */
function now(): HrTime {
  return addHrTimes(ORIGIN, millisToHrTime(performance.now()));
}

function isPlainScalar(value: unknown): value is string | number | boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean';
}

interface Shared {
  resource: Resource;
  scope: InstrumentationScope;
  processors: readonly SpanProcessor[];
}

class LightSpan implements Span, ReadableSpan {
  readonly #shared: Shared;
  readonly #context: SpanContext;
  readonly parentSpanContext: SpanContext | undefined;
  name: string;
  readonly kind: SpanKind;
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  readonly attributes: Attributes = {};
  readonly links: Link[];
  readonly events: TimedEvent[] = [];
  ended = false;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  #attributeCount = 0;

  constructor(
    shared: Shared,
    context: SpanContext,
    parent: SpanContext | undefined,
    name: string,
    kind: SpanKind,
    startTime: HrTime,
    links: Link[],
  ) {
    this.#shared = shared;
    this.#context = context;
    this.parentSpanContext = parent;
    this.name = name;
    this.kind = kind;
    this.startTime = startTime;
    this.links = links.slice(-LIMITS.linkCountLimit);
    this.droppedLinksCount = links.length - this.links.length;
  }

  get resource(): Resource {
    return this.#shared.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.#shared.scope;
  }

  get duration(): HrTime {
    return this.ended ? hrTimeDuration(this.startTime, this.endTime) : [-1, -1];
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.#endedAlready()) return this;
    if (this.#set(key, value) === AddAttributeDecision.DROP_LIMIT_REACHED) this.droppedAttributesCount++;
    return this;
  }

  /** The attributes a span starts with: as the SDK, one it cannot keep counts as dropped, one left undefined does not. */
  startWith(attributes: Attributes): void {
    for (const key in attributes) {
      if (!Object.hasOwn(attributes, key)) continue;
      const decision = this.#set(key, attributes[key] as AttributeValue);
      if (decision === AddAttributeDecision.DROP_LIMIT_REACHED || decision === AddAttributeDecision.DROP_INVALID)
        this.droppedAttributesCount++;
    }
  }

  #set(key: string, value: AttributeValue): AddAttributeDecision {
    if (isPlainScalar(value) && key.length > 0) {
      const isNew = !Object.hasOwn(this.attributes, key);
      if (!isNew || this.#attributeCount < LIMITS.attributeCountLimit) {
        this.attributes[key] = value;
        if (!isNew) return AddAttributeDecision.ADD_OVERWRITE_EXISTING;
        this.#attributeCount++;
        return AddAttributeDecision.ADD_NEW;
      }
    }
    const decision = maybeAddAttribute({
      key,
      value,
      attributes: this.attributes,
      limits: LIMITS,
      currentAttributesCount: this.#attributeCount,
    });
    if (decision === AddAttributeDecision.ADD_NEW) this.#attributeCount++;
    return decision;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (Object.hasOwn(attributes, key)) this.setAttribute(key, attributes[key] as AttributeValue);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.#endedAlready()) return this;
    const [attributes, at] = isTimeInput(attributesOrTime) ? [undefined, attributesOrTime] : [attributesOrTime, time];
    if (this.events.length >= LIMITS.eventCountLimit) {
      this.events.shift();
      this.droppedEventsCount++;
    }
    this.events.push({ name, time: toHrTime(at), ...cleanSimpleAttributes(attributes, EVENT_ATTRIBUTE_LIMITS) });
    return this;
  }

  addLink(link: Link): this {
    if (this.#endedAlready()) return this;
    if (this.links.length >= LIMITS.linkCountLimit) {
      this.links.shift();
      this.droppedLinksCount++;
    }
    this.links.push(cleanLink(link));
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  /** As the SDK: OK is final, UNSET changes nothing, only an error keeps a message. */
  setStatus(status: SpanStatus): this {
    if (this.#endedAlready() || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status =
      status.code === SpanStatusCode.ERROR && typeof status.message === 'string'
        ? { code: status.code, message: status.message }
        : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.#endedAlready()) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.#endedAlready()) return;
    const end = toHrTime(endTime);
    // An end before the start ends it where it started, as the SDK does.
    this.endTime = hrTimeDuration(this.startTime, end)[0] < 0 ? this.startTime : end;
    this.ended = true;
    for (const processor of this.#shared.processors) processor.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  /** The `exception` event of the semantic conventions, as the SDK records it. */
  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes[ATTR_EXCEPTION_MESSAGE] = exception;
    else if (exception) {
      if (exception.code) attributes[ATTR_EXCEPTION_TYPE] = exception.code.toString();
      else if (exception.name) attributes[ATTR_EXCEPTION_TYPE] = exception.name;
      if (exception.message) attributes[ATTR_EXCEPTION_MESSAGE] = exception.message;
      if (exception.stack) attributes[ATTR_EXCEPTION_STACKTRACE] = exception.stack;
    }
    if (attributes[ATTR_EXCEPTION_TYPE] || attributes[ATTR_EXCEPTION_MESSAGE]) this.addEvent('exception', attributes, time);
  }

  #endedAlready(): boolean {
    if (this.ended) diag.warn(`otel-mlflow: span ${this.name} (${this.#context.spanId}) was changed after it ended`);
    return this.ended;
  }
}
