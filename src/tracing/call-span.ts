import { diag, SpanKind, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { capturesContent } from './content-filter.ts';
import { setSpanInputs, setSpanType } from './encode-attributes.ts';
import { MlflowAttr, type SpanType } from './mlflow-attributes.ts';
import type { EarlyEnd } from './observed-stream.ts';
import { markSpanFailed } from './with-span.ts';

/** Seconds from the request to the first streamed chunk (a double attribute on streaming spans). */
const TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
/** Event on a streaming span whose consumer stopped early or whose request was aborted; attribute `reason`. */
const STREAM_ENDED_EARLY = 'otel_mlflow.stream.ended_early';

/** What every LLM client's instrumentation is given (openai, Anthropic). */
export interface LlmSpanSettings {
  tracer: Tracer;
  /** gen_ai.provider.name: 'openai' | 'anthropic' | 'databricks' | 'otel-mlflow.offline'. */
  provider: string;
  captureContent: boolean;
  /** Where message content goes: mlflow.spanInputs/Outputs for MLflow, gen_ai.*.messages for others. */
  contentAttributes: 'mlflow' | 'gen_ai';
  /** server.address / server.port of the client's base URL. */
  server: Attributes;
}

/** Calls waiting for the body their SDK sends, by their span: it is active while the SDK sends it. */
const awaitingBody = new WeakMap<Span, CallSpan>();

/** The SDK's own error class for answers with an HTTP status (both SDKs have one, each its own). */
export type ApiErrorClass = abstract new (...args: never[]) => { status: number | undefined };

/**
 * The life of one LLM API call's span: started with the request's attributes, ended exactly once,
 * and never failing the caller's call because an answer could not be recorded.
 */
export class CallSpan<Settings extends LlmSpanSettings = LlmSpanSettings> {
  readonly span: Span;
  readonly settings: Settings;
  /** See capturesContent(): a sampled-out call costs no serialising. */
  readonly capturesContent: boolean;
  readonly #apiError: ApiErrorClass;
  readonly #started = performance.now();
  #ended = false;
  /** The request whose JSON becomes the inputs, until they are recorded: as the SDK sent it, or at the end. */
  #unrecordedInputs: object | undefined;

  /**
   * `attributes` are read only for a span that records: a sampled-out call, most calls of a busy
   * program that traces one in ten, builds none. The samplers a user can choose (the standard ones,
   * by OTEL_TRACES_SAMPLER) decide without them.
   */
  constructor(name: string, type: SpanType, attributes: () => Attributes, settings: Settings, apiError: ApiErrorClass) {
    this.settings = settings;
    this.#apiError = apiError;
    this.span = settings.tracer.startSpan(name, { kind: SpanKind.CLIENT });
    this.capturesContent = capturesContent(settings.captureContent, this.span);
    if (!this.span.isRecording()) return;
    this.span.setAttributes(attributes());
    this.span.setAttributes(settings.server);
    setSpanType(this.span, type);
  }

  /**
   * The request's JSON becomes the span's inputs: the body the SDK sends for it (see sentBody), so
   * that a request holding a long prompt is serialised once, for the wire; or, for a call that ends
   * before the SDK sent anything, the request serialised then.
   */
  inputsAsSent(request: object): void {
    this.#unrecordedInputs = request;
    awaitingBody.set(this.span, this);
  }

  /** The SDK is sending `body` while `span` is active: when that is a call still waiting for its inputs, the body becomes them. */
  static sentBody(span: Span, body: unknown): void {
    const call = awaitingBody.get(span);
    if (!call || typeof body !== 'string') return;
    awaitingBody.delete(span);
    call.#unrecordedInputs = undefined;
    call.span.setAttribute(MlflowAttr.spanInputs, body);
  }

  /** The first streamed chunk or event arrived: seconds since the request. */
  firstChunk(): void {
    this.span.setAttribute(TIME_TO_FIRST_CHUNK, (performance.now() - this.#started) / 1000);
  }

  /** A stream's consumer stopped early, or its request was aborted: the SDK ends that quietly, so it is recorded as the abort error the SDK throws elsewhere. */
  recordEndedEarly(reason: EarlyEnd, abortError: () => Error): void {
    this.span.addEvent(STREAM_ENDED_EARLY, { reason });
    if (reason === 'aborted') this.recordFailure(abortError());
  }

  end(what: string, record: () => void): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      // Still waiting for a body the SDK never sent (a call that failed before its request was made).
      if (this.#unrecordedInputs !== undefined) {
        awaitingBody.delete(this.span);
        setSpanInputs(this.span, this.#unrecordedInputs);
        this.#unrecordedInputs = undefined;
      }
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
    if (error instanceof this.#apiError && typeof error.status === 'number')
      this.span.setAttribute('http.response.status_code', error.status);
  }
}
