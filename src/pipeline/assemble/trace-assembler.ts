import { SpanStatusCode, type Context } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { isLocalRoot } from '../../tracing/trace-summary.ts';

/** The attribute that marks a span ended by shutdown rather than by its own code. */
export const INTERRUPTED_ATTRIBUTE = 'otel_mlflow.interrupted';

export interface TraceAssemblerOptions {
  /** Where each whole trace goes (the store writer). */
  onTrace: (spans: ReadableSpan[]) => void;
  /** Traces whose root is still open; beyond this the oldest is stored as it is (in progress). */
  maxOpenTraces?: number;
  /** Turns a finished span into what is kept: drops message content when capture is off. */
  prepare?: (span: ReadableSpan) => ReadableSpan;
}

/**
 * Holds a trace's spans until its local root ends, then hands the whole trace on, so that the store
 * keeps traces, not spans, and a trace is never half-visible. Spans that end after their root go on
 * their own and are merged into the stored trace.
 */
export class TraceAssembler implements SpanProcessor {
  readonly #onTrace: (spans: ReadableSpan[]) => void;
  readonly #maxOpen: number;
  readonly #prepare: (span: ReadableSpan) => ReadableSpan;
  /** The SDK's own finished spans, kept as they are until their trace is encoded: no copy per span. */
  readonly #open = new Map<string, ReadableSpan[]>();
  /** Spans started and not yet ended, so shutdown can end them instead of losing their traces. */
  readonly #running = new Set<Span>();
  #shutDown = false;

  constructor(options: TraceAssemblerOptions) {
    this.#onTrace = options.onTrace;
    this.#maxOpen = options.maxOpenTraces ?? 2048;
    this.#prepare = options.prepare ?? ((span) => span);
  }

  onStart(span: Span, _parentContext: Context): void {
    if (!this.#shutDown) this.#running.add(span);
  }

  onEnd(span: ReadableSpan): void {
    this.#running.delete(span as Span);
    if (this.#shutDown) return;
    const traceId = span.spanContext().traceId;
    const kept = this.#prepare(span);
    const spans = this.#open.get(traceId);
    if (isLocalRoot(span)) {
      this.#open.delete(traceId);
      if (spans) spans.push(kept);
      this.#onTrace(spans ?? [kept]);
      return;
    }
    if (spans) {
      spans.push(kept);
      return;
    }
    this.#open.set(traceId, [kept]);
    if (this.#open.size > this.#maxOpen) this.#storeOldestAsInProgress();
  }

  /** Traces waiting for their root. */
  get openTraceCount(): number {
    return this.#open.size;
  }

  /** Nothing is buffered but traces whose root is open; the store writer does the rest. */
  async forceFlush(): Promise<void> {}

  /**
   * Ends every span still running as ERROR ("interrupted") so the requests cut off by shutdown keep
   * their traces, then hands on what is left of traces whose root never ended (they show as in progress).
   */
  async shutdown(): Promise<void> {
    if (this.#shutDown) return;
    this.endRunningSpans('interrupted: the process stopped before this span ended');
    this.#shutDown = true;
    for (const spans of this.#open.values()) this.#onTrace(spans);
    this.#open.clear();
  }

  endRunningSpans(reason: string): void {
    // Children first: a root ended before its children would hand on its trace without them.
    const running = [...this.#running].reverse();
    for (const span of running) {
      span.setAttribute(INTERRUPTED_ATTRIBUTE, true);
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
      // The clock the spans started on (see light-tracer): the SDK's own would end some before they began.
      span.end(hrTime());
    }
  }

  #storeOldestAsInProgress(): void {
    const [oldest] = this.#open.keys();
    if (oldest === undefined) return;
    const spans = this.#open.get(oldest)!;
    this.#open.delete(oldest);
    this.#onTrace(spans);
  }
}
