import { CallSpan, type LlmSpanSettings } from '../call-span.ts';
import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { setSpanOutputs, setTokenUsage } from '../encode-attributes.ts';
import { MlflowAttr } from '../mlflow-attributes.ts';
import { toGenAiInputMessages, toGenAiOutputMessages } from './genai-messages.ts';
import type { EarlyEnd } from '../observed-stream.ts';
import type { StreamedCompletion } from './stream-accumulator.ts';

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
  readonly #call: CallSpan<LlmSpanSettings>;

  constructor(request: ChatCompletionCreateParams, settings: LlmSpanSettings) {
    this.#call = new CallSpan(`chat ${request.model}`, 'CHAT_MODEL', () => requestAttributes(request, settings), settings, APIError);
  }

  /** The request as sent, which may differ from the caller's (usage asked for on a stream). */
  sent(request: ChatCompletionCreateParams): void {
    if (this.#call.capturesContent) this.#recordRequestContent(request);
  }

  get span(): Span {
    return this.#call.span;
  }

  firstChunk(): void {
    this.#call.firstChunk();
  }

  succeeded(response: StreamedCompletion): void {
    this.#call.end('a chat completion', () => {
      // First: the call succeeded for its caller even when the answer's shape cannot be recorded.
      this.#call.span.setStatus({ code: SpanStatusCode.OK });
      this.#recordResponse(response);
    });
  }

  endedEarly(reason: EarlyEnd, received: StreamedCompletion): void {
    this.#call.end('a chat completion', () => {
      this.#recordResponse(received);
      this.#call.recordEndedEarly(reason, () => new APIUserAbortError());
    });
  }

  failed(error: unknown): void {
    this.#call.end('a chat completion', () => this.#call.recordFailure(error));
  }

  /** The caller read the raw response itself: nothing more can be known about it. */
  respondedRaw(): void {
    this.#call.end('a chat completion', () => undefined);
  }

  #recordRequestContent(request: ChatCompletionCreateParams): void {
    const tools = request.tools?.length ? request.tools : undefined;
    if (this.#call.settings.contentAttributes === 'mlflow') {
      this.#call.inputsAsSent(request);
      // A bare array, as MLflow's own set_span_chat_tools writes it.
      if (tools) this.#call.span.setAttribute(MlflowAttr.chatTools, JSON.stringify(tools));
      return;
    }
    // The GenAI conventions define these as arrays; their readers (collectors, Unity Catalog, MLflow 3.11+) decode them.
    this.#call.span.setAttribute('gen_ai.input.messages', JSON.stringify(toGenAiInputMessages(request.messages)));
    if (tools) this.#call.span.setAttribute('gen_ai.tool.definitions', JSON.stringify(tools));
  }

  #recordResponse(response: StreamedCompletion): void {
    const choices = response.choices ?? [];
    const attributes: Attributes = {};
    if (response.id) attributes['gen_ai.response.id'] = response.id;
    if (response.model) attributes['gen_ai.response.model'] = response.model;
    const finishReasons = choices.flatMap((choice) => (choice?.finish_reason ? [choice.finish_reason] : []));
    if (finishReasons.length > 0) attributes['gen_ai.response.finish_reasons'] = finishReasons;
    this.#call.span.setAttributes(attributes);
    if (response.usage) setTokenUsage(this.#call.span, { input: response.usage.prompt_tokens, output: response.usage.completion_tokens });
    if (!this.#call.capturesContent) return;
    if (this.#call.settings.contentAttributes === 'mlflow') setSpanOutputs(this.#call.span, response);
    else this.#call.span.setAttribute('gen_ai.output.messages', JSON.stringify(toGenAiOutputMessages(choices)));
  }
}

function requestAttributes(request: ChatCompletionCreateParams, settings: LlmSpanSettings): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': settings.provider,
    'gen_ai.request.model': request.model,
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
