import { diag, SpanKind, type Attributes, type Span } from '@opentelemetry/api';
import { APIError } from 'openai';
import { setSpanType } from '../encode-attributes.ts';
import type { SpanType } from '../mlflow-attributes.ts';
import { markSpanFailed } from '../with-span.ts';
import type { ChatSpanSettings } from './chat-span.ts';

/**
 * The life of one OpenAI API call's span, for the Responses and embeddings calls: started with the
 * request's attributes, ended exactly once, and never failing the caller's call because an answer
 * could not be recorded.
 */
export class CallSpan {
  readonly span: Span;
  readonly settings: ChatSpanSettings;
  readonly #started = performance.now();
  #ended = false;

  constructor(name: string, type: SpanType, attributes: Attributes, settings: ChatSpanSettings) {
    this.settings = settings;
    this.span = settings.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: { ...attributes, ...settings.server } });
    setSpanType(this.span, type);
  }

  /** Seconds since the call started. */
  elapsed(): number {
    return (performance.now() - this.#started) / 1000;
  }

  end(what: string, record: () => void): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      record();
    } catch (error) {
      diag.warn(`otel-mlflow: could not record ${what} on its span`, error);
    } finally {
      this.span.end();
    }
  }

  recordFailure(error: unknown): void {
    markSpanFailed(this.span, error);
    this.span.setAttribute('error.type', error instanceof Error ? error.constructor.name : '_OTHER');
    if (error instanceof APIError && typeof error.status === 'number') this.span.setAttribute('http.response.status_code', error.status);
  }
}
