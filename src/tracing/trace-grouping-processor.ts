import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { isLocalRoot } from './trace-summary.ts';

export interface TraceGroupingOptions {
  /** Traces buffered while their root is still open; beyond this the oldest is exported as it is. */
  maxPendingTraces?: number;
  /** Exports running at once; more wait their turn rather than opening many sockets. */
  maxConcurrentExports?: number;
}

/**
 * Holds a trace's spans until its local root ends, then exports them in one call, so that an exporter
 * can send one trace per request (MLflow has no partial success: one bad span would take every other
 * trace in the same request with it, and the REST path needs the whole trace at once).
 * Spans that end after their trace went out are sent on their own; MLflow's OTLP ingest upserts them.
 */
export class TraceGroupingProcessor implements SpanProcessor {
  readonly #exporter: SpanExporter;
  readonly #maxPending: number;
  readonly #maxConcurrent: number;
  readonly #pending = new Map<string, ReadableSpan[]>();
  readonly #queue: ReadableSpan[][] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #idleWaiters: (() => void)[] = [];
  #shutDown = false;

  constructor(exporter: SpanExporter, options: TraceGroupingOptions = {}) {
    this.#exporter = exporter;
    this.#maxPending = options.maxPendingTraces ?? 2048;
    this.#maxConcurrent = options.maxConcurrentExports ?? 4;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#shutDown) return;
    const traceId = span.spanContext().traceId;
    const spans = this.#pending.get(traceId) ?? [];
    spans.push(span);
    if (isLocalRoot(span)) {
      this.#pending.delete(traceId);
      this.#enqueue(spans);
      return;
    }
    if (!this.#pending.has(traceId)) {
      this.#pending.set(traceId, spans);
      this.#evictOldestBeyondLimit();
    }
  }

  /** Traces still waiting for their root plus those queued or being exported. */
  get pendingTraceCount(): number {
    return this.#pending.size + this.#queue.length + this.#inFlight.size;
  }

  /** Waits for every complete trace to be exported; traces whose root is still open stay buffered. */
  async forceFlush(): Promise<void> {
    await this.#whenIdle();
    await this.#exporter.forceFlush?.();
  }

  /** Exports everything, including traces whose root never ended (they show as in progress). */
  async shutdown(): Promise<void> {
    if (this.#shutDown) return;
    for (const spans of this.#pending.values()) this.#queue.push(spans);
    this.#pending.clear();
    this.#pump();
    await this.#whenIdle();
    this.#shutDown = true;
    await this.#exporter.shutdown();
  }

  #evictOldestBeyondLimit(): void {
    if (this.#pending.size <= this.#maxPending) return;
    const [oldest] = this.#pending.keys();
    if (oldest === undefined) return;
    const spans = this.#pending.get(oldest)!;
    this.#pending.delete(oldest);
    this.#enqueue(spans);
  }

  #enqueue(spans: ReadableSpan[]): void {
    this.#queue.push(spans);
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight.size < this.#maxConcurrent && this.#queue.length > 0) {
      const spans = this.#queue.shift()!;
      const done = this.#export(spans).finally(() => {
        this.#inFlight.delete(done);
        this.#pump();
        if (this.#inFlight.size === 0 && this.#queue.length === 0) {
          for (const wake of this.#idleWaiters.splice(0)) wake();
        }
      });
      this.#inFlight.add(done);
    }
  }

  #export(spans: ReadableSpan[]): Promise<void> {
    // The exporter records each trace's outcome itself; a failure here must never reach the app.
    return new Promise((resolve) => {
      try {
        this.#exporter.export(spans, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  #whenIdle(): Promise<void> {
    if (this.#inFlight.size === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}
