import { diag, SpanKind, SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { setSpanInputs, setSpanOutputs, setSpanType, setTokenUsage } from '../encode-attributes.ts';
import { MlflowAttr } from '../mlflow-attributes.ts';
import { markSpanFailed } from '../with-span.ts';
import { toGenAiInputMessages, toGenAiOutputMessages } from './genai-messages.ts';
import type { EarlyEnd } from '../observed-stream.ts';
import type { StreamedCompletion } from './stream-accumulator.ts';

export interface ChatSpanSettings {
  tracer: Tracer;
  provider: string;
  captureContent: boolean;
  contentAttributes: 'mlflow' | 'gen_ai';
  /** server.address / server.port of the client's base URL. */
  server: Attributes;
}

/** Seconds from the request to the first streamed chunk (a double attribute on streaming spans). */
const TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
/** Event on a streaming span whose consumer stopped early or whose request was aborted; attribute `reason`. */
const STREAM_ENDED_EARLY = 'otel_mlflow.stream.ended_early';

const NUMERIC_PARAMS = [
  ['temperature', 'gen_ai.request.temperature'],
  ['top_p', 'gen_ai.request.top_p'],
  ['frequency_penalty', 'gen_ai.request.frequency_penalty'],
  ['presence_penalty', 'gen_ai.request.presence_penalty'],
  ['seed', 'gen_ai.request.seed'],
] as const;

/**
 * One `chat.completions.create` call as a CHAT_MODEL span: the request when it starts, then exactly
 * one ending — a response, a stream that ended early, a failure, or a raw response nobody parsed.
 * Message content goes under the names the destination reads, serialised once each way.
 */
export class ChatSpan {
  readonly #span: Span;
  readonly #settings: ChatSpanSettings;
  readonly #started = performance.now();
  #ended = false;

  constructor(request: ChatCompletionCreateParams, settings: ChatSpanSettings) {
    this.#settings = settings;
    this.#span = settings.tracer.startSpan(`chat ${request.model}`, {
      kind: SpanKind.CLIENT,
      attributes: requestAttributes(request, settings),
    });
    setSpanType(this.#span, 'CHAT_MODEL');
    if (settings.captureContent) this.#recordRequestContent(request);
  }

  get span(): Span {
    return this.#span;
  }

  firstChunk(): void {
    this.#span.setAttribute(TIME_TO_FIRST_CHUNK, (performance.now() - this.#started) / 1000);
  }

  succeeded(response: StreamedCompletion): void {
    this.#end(() => {
      // First: the call succeeded for its caller even when the answer's shape cannot be recorded.
      this.#span.setStatus({ code: SpanStatusCode.OK });
      this.#recordResponse(response);
    });
  }

  endedEarly(reason: EarlyEnd, received: StreamedCompletion): void {
    this.#end(() => {
      this.#recordResponse(received);
      this.#span.addEvent(STREAM_ENDED_EARLY, { reason });
      // The SDK ends an aborted stream without throwing; record it as the abort error it throws elsewhere.
      if (reason === 'aborted') this.#recordFailure(new APIUserAbortError());
    });
  }

  failed(error: unknown): void {
    this.#end(() => this.#recordFailure(error));
  }

  /** The caller read the raw response itself: nothing more can be known about it. */
  respondedRaw(): void {
    this.#end(() => undefined);
  }

  /** Ends the span once, whatever `record` meets: an answer of an unexpected shape must not fail the caller's call. */
  #end(record: () => void): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      record();
    } catch (error) {
      diag.warn('otel-mlflow: could not record a chat completion on its span', error);
    } finally {
      this.#span.end();
    }
  }

  #recordRequestContent(request: ChatCompletionCreateParams): void {
    const tools = request.tools?.length ? request.tools : undefined;
    if (this.#settings.contentAttributes === 'mlflow') {
      setSpanInputs(this.#span, request);
      // A bare array, as MLflow's own set_span_chat_tools writes it.
      if (tools) this.#span.setAttribute(MlflowAttr.chatTools, JSON.stringify(tools));
      return;
    }
    // The GenAI conventions define these as arrays; their readers (collectors, Unity Catalog, MLflow 3.11+) decode them.
    this.#span.setAttribute('gen_ai.input.messages', JSON.stringify(toGenAiInputMessages(request.messages)));
    if (tools) this.#span.setAttribute('gen_ai.tool.definitions', JSON.stringify(tools));
  }

  #recordResponse(response: StreamedCompletion): void {
    const choices = response.choices ?? [];
    const attributes: Attributes = {};
    if (response.id) attributes['gen_ai.response.id'] = response.id;
    if (response.model) attributes['gen_ai.response.model'] = response.model;
    const finishReasons = choices.flatMap((choice) => (choice?.finish_reason ? [choice.finish_reason] : []));
    if (finishReasons.length > 0) attributes['gen_ai.response.finish_reasons'] = finishReasons;
    this.#span.setAttributes(attributes);
    if (response.usage) setTokenUsage(this.#span, { input: response.usage.prompt_tokens, output: response.usage.completion_tokens });
    if (!this.#settings.captureContent) return;
    if (this.#settings.contentAttributes === 'mlflow') setSpanOutputs(this.#span, response);
    else this.#span.setAttribute('gen_ai.output.messages', JSON.stringify(toGenAiOutputMessages(choices)));
  }

  #recordFailure(error: unknown): void {
    markSpanFailed(this.#span, error);
    this.#span.setAttribute('error.type', error instanceof Error ? error.constructor.name : '_OTHER');
    if (error instanceof APIError && typeof error.status === 'number') this.#span.setAttribute('http.response.status_code', error.status);
  }
}

function requestAttributes(request: ChatCompletionCreateParams, settings: ChatSpanSettings): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': settings.provider,
    'gen_ai.request.model': request.model,
    ...settings.server,
  };
  // Only inputs written by this module are OpenAI-shaped; GenAI-shaped ones must not claim that format.
  if (settings.contentAttributes === 'mlflow') attributes[MlflowAttr.messageFormat] = 'openai';
  for (const [param, name] of NUMERIC_PARAMS) {
    const value = request[param];
    if (typeof value === 'number') attributes[name] = value;
  }
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') attributes['gen_ai.request.max_tokens'] = maxTokens;
  if (typeof request.n === 'number' && request.n !== 1) attributes['gen_ai.request.choice.count'] = request.n;
  if (request.stop) attributes['gen_ai.request.stop_sequences'] = typeof request.stop === 'string' ? [request.stop] : request.stop;
  return attributes;
}
