import { CallSpan, type LlmSpanSettings } from '../call-span.ts';
import { APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { Message, MessageCreateParams, ToolUnion } from '@anthropic-ai/sdk/resources/messages';
import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { setSpanOutputs, setTokenUsage } from '../encode-attributes.ts';
import { MlflowAttr } from '../mlflow-attributes.ts';
import { toGenAiInputMessages, toGenAiOutputMessages, toGenAiSystemInstructions } from './genai-messages.ts';
import type { EarlyEnd } from '../observed-stream.ts';

/** Sampling parameters some Anthropic models and compatible servers take, read off the body when present. */
const NUMERIC_PARAMS = [
  ['temperature', 'gen_ai.request.temperature'],
  ['top_p', 'gen_ai.request.top_p'],
  ['top_k', 'gen_ai.request.top_k'],
  ['max_tokens', 'gen_ai.request.max_tokens'],
] as const;

/**
 * One `messages.create` call (also the one under `messages.stream()`) as a CHAT_MODEL span, shaped as
 * MLflow's own Anthropic integration shapes it: the request body as inputs, the Message as outputs,
 * `mlflow.message.format` = `anthropic` so the UI renders both as chat, and token usage. Exactly one
 * ending: a message, a stream that ended early, a failure, or a raw response nobody parsed.
 */
export class MessageSpan {
  readonly #call: CallSpan<LlmSpanSettings>;

  constructor(request: MessageCreateParams, settings: LlmSpanSettings) {
    this.#call = new CallSpan(`chat ${request.model}`, 'CHAT_MODEL', () => requestAttributes(request, settings), settings, APIError);
    if (this.#call.capturesContent) this.#recordRequestContent(request);
  }

  get span(): Span {
    return this.#call.span;
  }

  firstChunk(): void {
    this.#call.firstChunk();
  }

  succeeded(message: Message | undefined): void {
    this.#call.end('an Anthropic message', () => {
      // First: the call succeeded for its caller even when the answer's shape cannot be recorded.
      this.#call.span.setStatus({ code: SpanStatusCode.OK });
      if (message) this.#recordResponse(message);
    });
  }

  endedEarly(reason: EarlyEnd, received: Message | undefined): void {
    this.#call.end('an Anthropic message', () => {
      if (received) this.#recordResponse(received);
      this.#call.recordEndedEarly(reason, () => new APIUserAbortError());
    });
  }

  failed(error: unknown): void {
    this.#call.end('an Anthropic message', () => this.#call.recordFailure(error));
  }

  /** The caller read the raw response itself: nothing more can be known about it. */
  respondedRaw(): void {
    this.#call.end('an Anthropic message', () => undefined);
  }

  #recordRequestContent(request: MessageCreateParams): void {
    const tools = request.tools?.length ? request.tools : undefined;
    if (this.#call.settings.contentAttributes === 'mlflow') {
      this.#call.inputsAsSent(request);
      // MLflow's chat tools are OpenAI-shaped; its Anthropic autolog converts them the same way.
      if (tools) this.#call.span.setAttribute(MlflowAttr.chatTools, JSON.stringify(tools.map(toChatTool)));
      return;
    }
    this.#call.span.setAttribute('gen_ai.input.messages', JSON.stringify(toGenAiInputMessages(request.messages)));
    const system = toGenAiSystemInstructions(request.system);
    if (system) this.#call.span.setAttribute('gen_ai.system_instructions', JSON.stringify(system));
    if (tools) this.#call.span.setAttribute('gen_ai.tool.definitions', JSON.stringify(tools));
  }

  #recordResponse(message: Message): void {
    const attributes: Attributes = {};
    if (message.id) attributes['gen_ai.response.id'] = message.id;
    if (message.model) attributes['gen_ai.response.model'] = message.model;
    if (message.stop_reason) attributes['gen_ai.response.finish_reasons'] = [message.stop_reason];
    const usage = message.usage;
    const cacheRead = usage?.cache_read_input_tokens ?? 0;
    const cacheCreation = usage?.cache_creation_input_tokens ?? 0;
    if (cacheRead > 0) attributes['gen_ai.usage.cache_read.input_tokens'] = cacheRead;
    if (cacheCreation > 0) attributes['gen_ai.usage.cache_creation.input_tokens'] = cacheCreation;
    this.#call.span.setAttributes(attributes);
    // Anthropic's input_tokens leaves out the cached part; every token the model read counts as input, as the GenAI conventions ask.
    if (usage)
      setTokenUsage(this.#call.span, { input: (usage.input_tokens ?? 0) + cacheRead + cacheCreation, output: usage.output_tokens ?? 0 });
    if (!this.#call.capturesContent) return;
    if (this.#call.settings.contentAttributes === 'mlflow') setSpanOutputs(this.#call.span, message);
    else this.#call.span.setAttribute('gen_ai.output.messages', JSON.stringify(toGenAiOutputMessages(message)));
  }
}

function requestAttributes(request: MessageCreateParams, settings: LlmSpanSettings): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': settings.provider,
    'gen_ai.request.model': request.model,
  };
  // Only inputs written by this module are Anthropic-shaped; GenAI-shaped ones must not claim that format.
  if (settings.contentAttributes === 'mlflow') attributes[MlflowAttr.messageFormat] = 'anthropic';
  const body = request as unknown as Record<string, unknown>;
  for (const [param, name] of NUMERIC_PARAMS) {
    const value = body[param];
    if (typeof value === 'number') attributes[name] = value;
  }
  if (request.stop_sequences?.length) attributes['gen_ai.request.stop_sequences'] = request.stop_sequences;
  return attributes;
}

function toChatTool(tool: ToolUnion): unknown {
  const { name, description, input_schema } = tool as { name: string; description?: string; input_schema?: unknown };
  return {
    type: 'function',
    function: { name, ...(description && { description }), ...(input_schema !== undefined && { parameters: input_schema }) },
  };
}
