import { SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { APIUserAbortError, APIError } from 'openai';
import type { Response, ResponseCreateParams } from 'openai/resources/responses/responses';
import { setSpanInputs, setSpanOutputs, setTokenUsage } from '../encode-attributes.ts';
import { MlflowAttr } from '../mlflow-attributes.ts';
import { CallSpan, type LlmSpanSettings } from '../call-span.ts';
import type { EarlyEnd } from '../observed-stream.ts';
import { toGenAiInputMessages, toGenAiOutputMessages } from './responses-genai.ts';

/**
 * One `responses.create` call (also under `responses.stream()` and `.parse()`) as a CHAT_MODEL span,
 * as MLflow's OpenAI autolog records it: the request as inputs, the Response as outputs (the UI's
 * chat view reads the Responses shape too), `mlflow.message.format` `openai`, and token usage.
 */
export class ResponsesSpan {
  readonly #call: CallSpan;

  constructor(request: ResponseCreateParams, settings: LlmSpanSettings) {
    this.#call = new CallSpan(`chat ${request.model}`, 'CHAT_MODEL', () => requestAttributes(request, settings), settings, APIError);
    if (this.#call.capturesContent) this.#recordRequestContent(request);
  }

  get span() {
    return this.#call.span;
  }

  firstChunk(): void {
    this.#call.firstChunk();
  }

  succeeded(response: Response | undefined): void {
    this.#call.end('a response', () => {
      // A stream can end normally with a response that failed: that is the call's failure.
      if (response?.status === 'failed') this.#call.recordFailure(new Error(response.error?.message ?? 'the response failed'));
      else this.#call.span.setStatus({ code: SpanStatusCode.OK });
      if (response) this.#recordResponse(response);
    });
  }

  endedEarly(reason: EarlyEnd, received: Response | undefined): void {
    this.#call.end('a response', () => {
      if (received) this.#recordResponse(received);
      this.#call.recordEndedEarly(reason, () => new APIUserAbortError());
    });
  }

  failed(error: unknown): void {
    this.#call.end('a response', () => this.#call.recordFailure(error));
  }

  respondedRaw(): void {
    this.#call.end('a response', () => undefined);
  }

  #recordRequestContent(request: ResponseCreateParams): void {
    const span = this.#call.span;
    const tools = request.tools?.length ? request.tools : undefined;
    if (this.#call.settings.contentAttributes === 'mlflow') {
      setSpanInputs(span, request);
      if (tools) span.setAttribute(MlflowAttr.chatTools, JSON.stringify(tools.map(toChatTool)));
      return;
    }
    span.setAttribute('gen_ai.input.messages', JSON.stringify(toGenAiInputMessages(request.input)));
    if (typeof request.instructions === 'string') {
      span.setAttribute('gen_ai.system_instructions', JSON.stringify([{ type: 'text', content: request.instructions }]));
    }
    if (tools) span.setAttribute('gen_ai.tool.definitions', JSON.stringify(tools));
  }

  #recordResponse(response: Response): void {
    const span = this.#call.span;
    const attributes: Attributes = {};
    if (response.id) attributes['gen_ai.response.id'] = response.id;
    if (response.model) attributes['gen_ai.response.model'] = response.model;
    const finish = finishReason(response);
    if (finish) attributes['gen_ai.response.finish_reasons'] = [finish];
    const cached = response.usage?.input_tokens_details?.cached_tokens ?? 0;
    if (cached > 0) attributes['gen_ai.usage.cache_read.input_tokens'] = cached;
    span.setAttributes(attributes);
    // OpenAI's input_tokens already include the cached ones.
    if (response.usage) setTokenUsage(span, { input: response.usage.input_tokens, output: response.usage.output_tokens });
    if (!this.#call.capturesContent) return;
    if (this.#call.settings.contentAttributes === 'mlflow') setSpanOutputs(span, response);
    else span.setAttribute('gen_ai.output.messages', JSON.stringify(toGenAiOutputMessages(response, finish)));
  }
}

function requestAttributes(request: ResponseCreateParams, settings: LlmSpanSettings): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': settings.provider,
    ...(request.model && { 'gen_ai.request.model': request.model }),
  };
  if (settings.contentAttributes === 'mlflow') attributes[MlflowAttr.messageFormat] = 'openai';
  if (typeof request.temperature === 'number') attributes['gen_ai.request.temperature'] = request.temperature;
  if (typeof request.top_p === 'number') attributes['gen_ai.request.top_p'] = request.top_p;
  if (typeof request.max_output_tokens === 'number') attributes['gen_ai.request.max_tokens'] = request.max_output_tokens;
  return attributes;
}

/** Why the model stopped, in the chat vocabulary: a tool call, a limit, or a plain stop. */
function finishReason(response: Response): string | undefined {
  if (response.status === 'incomplete') return response.incomplete_details?.reason ?? 'incomplete';
  if (response.status !== 'completed') return undefined;
  return response.output.some((item) => item.type === 'function_call') ? 'tool_calls' : 'stop';
}

/** MLflow's chat tools are chat-completions shaped; a Responses function tool is flat. */
function toChatTool(tool: NonNullable<ResponseCreateParams['tools']>[number]): unknown {
  if (tool.type !== 'function') return tool;
  const { name, description, parameters } = tool;
  return { type: 'function', function: { name, ...(description && { description }), ...(parameters && { parameters }) } };
}
