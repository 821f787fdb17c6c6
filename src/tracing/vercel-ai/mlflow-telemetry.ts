import { context, diag, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { capturesContent } from '../content-filter.ts';
import { setSpanInputs, setSpanOutputs, setSpanType, setTokenUsage } from '../encode-attributes.ts';
import { MlflowAttr } from '../mlflow-attributes.ts';
import { markSpanFailed } from '../with-span.ts';
import { chatInputs, chatOutputs } from './chat-messages.ts';

export interface VercelAiTelemetryOptions {
  tracer: Tracer;
  /** Record prompts, answers, tool arguments and results; token usage, models and timings are always recorded. */
  captureContent: boolean;
  /** Operations kept open at most (default {@link MAX_OPEN_OPERATIONS}); beyond, the oldest is ended as abandoned. */
  maxOpenOperations?: number;
}

/** An AI SDK telemetry event: every one names its operation by `callId`; the rest depends on the event, read defensively. */
interface SdkEvent {
  readonly callId: string;
}
type AiEvent = Record<string, unknown> & SdkEvent;

/** The spans of one operation (a generateText, streamText, generateObject, embed… call) while it runs. */
interface Operation {
  root: Span;
  /** The root span's context: the parent of its model calls and tool executions. */
  context: Context;
  kind: OperationKind;
  /** The model call in flight: steps run one after another. */
  modelCall?: Span;
  tools: Map<string, Span>;
  embeddings: Map<string, Span>;
}

/** What an operation's inputs and outputs are: a chat, an object, embeddings, or something else (rerank, speech…) shown by type alone. */
type OperationKind = 'text' | 'object' | 'embedding' | 'other';

const OPERATION_KINDS: Readonly<Record<string, OperationKind>> = {
  'ai.generateText': 'text',
  'ai.streamText': 'text',
  'ai.generateObject': 'object',
  'ai.streamObject': 'object',
  'ai.embed': 'embedding',
  'ai.embedMany': 'embedding',
};

/**
 * A streamText or streamObject whose result the program never reads ends no span; past this many
 * open operations the oldest are ended, so that memory stays bounded and their spans still reach MLflow.
 */
const MAX_OPEN_OPERATIONS = 10_000;
/** Event on an operation's span ended to make room. */
const ABANDONED = 'otel_mlflow.operation.abandoned';

/** Integrations of the program's own OpenTelemetry set-up (`@ai-sdk/otel`): with one registered, its spans are the trace. */
const PROGRAM_INTEGRATIONS: ReadonlySet<string> = new Set(['OpenTelemetry', 'LegacyOpenTelemetry']);

/**
 * An AI SDK (7+) telemetry integration that makes the spans MLflow shows: each generateText /
 * streamText / generateObject / streamObject call a CHAIN span under the active context, each
 * model call in it a CHAT_MODEL span with the messages in and the answer out in OpenAI's chat shape
 * and the call's token usage, each tool execution a TOOL span; embed / embedMany an EMBEDDING span
 * with one EMBEDDING child per model call. Usage sits on model calls only, so MLflow counts it
 * once per trace. Provider requests made during a model call, and AI SDK calls made inside a tool,
 * nest under its span.
 *
 * Every method swallows its own failures: the SDK catches integration errors, but a broken span
 * must not even reach its log.
 */
export class MlflowTelemetry {
  readonly #tracer: Tracer;
  readonly #captureContent: boolean;
  readonly #maxOpenOperations: number;
  /** In the order they started: the first is the oldest. */
  readonly #operations = new Map<string, Operation>();

  constructor(options: VercelAiTelemetryOptions) {
    this.#tracer = options.tracer;
    this.#captureContent = options.captureContent;
    this.#maxOpenOperations = options.maxOpenOperations ?? MAX_OPEN_OPERATIONS;
  }

  onStart(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => {
      if (programTracesItself()) return;
      const operationId = String(event.operationId ?? 'ai.operation');
      const kind = OPERATION_KINDS[operationId] ?? 'other';
      const root = this.#tracer.startSpan(spanName(operationId, event.functionId), { kind: SpanKind.INTERNAL });
      setSpanType(root, kind === 'embedding' ? 'EMBEDDING' : operationId === 'ai.rerank' ? 'RERANKER' : 'CHAIN');
      root.setAttributes(modelAttributes(event));
      if (kind !== 'other' && this.#records(root, event, 'recordInputs')) {
        setSpanInputs(root, kind === 'embedding' ? { value: event.value } : promptInputs(event));
      }
      this.#operations.set(event.callId, {
        root,
        context: trace.setSpan(context.active(), root),
        kind,
        tools: new Map(),
        embeddings: new Map(),
      });
      if (this.#operations.size > this.#maxOpenOperations) this.#abandonOldest();
    });
  }

  onLanguageModelCallStart(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => this.#startModelCall(event, chatInputs(event.instructions, event.messages)));
  }

  onObjectStepStart(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => this.#startModelCall(event, { messages: chatInputs(undefined, event.promptMessages).messages }));
  }

  executeLanguageModelCall<T>(options: { callId: string; execute: () => PromiseLike<T> }): PromiseLike<T> {
    const span = this.#operations.get(options.callId)?.modelCall;
    return span ? context.with(trace.setSpan(context.active(), span), options.execute) : options.execute();
  }

  onLanguageModelCallEnd(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => this.#endModelCall(event, () => chatOutputs(event.content, event.finishReason)));
  }

  onObjectStepEnd(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => this.#endModelCall(event, () => chatOutputs([{ type: 'text', text: event.objectText }], event.finishReason)));
  }

  onStepError(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => {
      const operation = this.#operations.get(event.callId);
      if (!operation?.modelCall) return;
      endFailed(operation.modelCall, event.error);
      operation.modelCall = undefined;
    });
  }

  onToolExecutionStart(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => {
      const operation = this.#operations.get(event.callId);
      const call = record(event.toolCall);
      if (!operation || !call) return;
      const span = this.#tracer.startSpan(String(call.toolName), { kind: SpanKind.INTERNAL }, operation.context);
      setSpanType(span, 'TOOL');
      span.setAttributes({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': String(call.toolName) });
      if (typeof call.toolCallId === 'string') span.setAttribute('gen_ai.tool.call.id', call.toolCallId);
      if (this.#records(span, event, 'recordInputs')) setSpanInputs(span, call.input ?? {});
      operation.tools.set(String(call.toolCallId), span);
    });
  }

  executeTool<T>(options: { callId: string; toolCallId: string; execute: () => PromiseLike<T> }): PromiseLike<T> {
    const span = this.#operations.get(options.callId)?.tools.get(options.toolCallId);
    return span ? context.with(trace.setSpan(context.active(), span), options.execute) : options.execute();
  }

  onToolExecutionEnd(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => {
      const operation = this.#operations.get(event.callId);
      const call = record(event.toolCall);
      const span = call && operation?.tools.get(String(call.toolCallId));
      if (!operation || !call || !span) return;
      operation.tools.delete(String(call.toolCallId));
      const output = record(event.toolOutput);
      if (output?.type === 'tool-error') {
        endFailed(span, output.error);
        return;
      }
      if (this.#records(span, event, 'recordOutputs')) setSpanOutputs(span, output?.output ?? null);
      endOk(span);
    });
  }

  onEmbedStart(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => {
      const operation = this.#operations.get(event.callId);
      if (!operation) return;
      const span = this.#tracer.startSpan(`embeddings ${String(event.modelId)}`, { kind: SpanKind.CLIENT }, operation.context);
      setSpanType(span, 'EMBEDDING');
      span.setAttributes({ ...modelAttributes(event), 'gen_ai.operation.name': 'embeddings' });
      if (this.#records(span, event, 'recordInputs')) setSpanInputs(span, { input: event.values });
      operation.embeddings.set(String(event.embedCallId), span);
    });
  }

  onEmbedEnd(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => {
      const operation = this.#operations.get(event.callId);
      const span = operation?.embeddings.get(String(event.embedCallId));
      if (!operation || !span) return;
      operation.embeddings.delete(String(event.embedCallId));
      const tokens = record(event.usage)?.tokens;
      if (typeof tokens === 'number') setTokenUsage(span, { input: tokens, output: 0 });
      if (this.#records(span, event, 'recordOutputs')) setSpanOutputs(span, embeddingsSummary(event.embeddings));
      endOk(span);
    });
  }

  onEnd(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => {
      const operation = this.#take(event.callId);
      if (!operation) return;
      const { root, kind } = operation;
      if (this.#records(root, event, 'recordOutputs')) {
        // The answer the program got: the last step's text (the end event's content spans every step).
        if (kind === 'text') setSpanOutputs(root, chatOutputs([{ type: 'text', text: event.text }], event.finishReason));
        else if (kind === 'object') setSpanOutputs(root, event.object ?? null);
        else if (kind === 'embedding') setSpanOutputs(root, embeddingsSummary(event.embedding));
      }
      if (kind === 'object' && event.error !== undefined) endFailed(root, event.error);
      else endOk(root);
    });
  }

  onAbort(sdkEvent: SdkEvent): void {
    const event = sdkEvent as AiEvent;
    this.#guard(() => this.#fail(event.callId, event.reason ?? new Error('The operation was aborted')));
  }

  onError(event: unknown): void {
    this.#guard(() => {
      const failure = record(event);
      if (failure && typeof failure.callId === 'string') this.#fail(failure.callId, failure.error);
    });
  }

  #startModelCall(event: AiEvent, inputs: unknown): void {
    const operation = this.#operations.get(event.callId);
    if (!operation) return;
    const span = this.#tracer.startSpan(`chat ${String(event.modelId)}`, { kind: SpanKind.CLIENT }, operation.context);
    setSpanType(span, 'CHAT_MODEL');
    span.setAttributes({ ...modelAttributes(event), 'gen_ai.operation.name': 'chat' });
    if (this.#records(span, event, 'recordInputs')) {
      setSpanInputs(span, inputs);
      span.setAttribute(MlflowAttr.messageFormat, 'openai');
      const tools = chatTools(event.tools);
      if (tools) span.setAttribute(MlflowAttr.chatTools, JSON.stringify(tools));
    }
    operation.modelCall = span;
  }

  #endModelCall(event: AiEvent, outputs: () => unknown): void {
    const operation = this.#operations.get(event.callId);
    const span = operation?.modelCall;
    if (!operation || !span) return;
    operation.modelCall = undefined;
    const usage = record(event.usage);
    if (typeof usage?.inputTokens === 'number' && typeof usage.outputTokens === 'number') {
      setTokenUsage(span, { input: usage.inputTokens, output: usage.outputTokens });
    }
    const response = record(event.response);
    const responseModel = response?.modelId ?? event.responseModelId;
    if (typeof responseModel === 'string') span.setAttribute('gen_ai.response.model', responseModel);
    const responseId = event.responseId ?? response?.id;
    if (typeof responseId === 'string') span.setAttribute('gen_ai.response.id', responseId);
    if (typeof event.finishReason === 'string') span.setAttribute('gen_ai.response.finish_reasons', [event.finishReason]);
    if (this.#records(span, event, 'recordOutputs')) setSpanOutputs(span, outputs());
    endOk(span);
  }

  /** Ends what the operation left open, its root last, as failed. */
  #fail(callId: string, error: unknown): void {
    const operation = this.#take(callId);
    if (!operation) return;
    const open = [operation.modelCall, ...operation.tools.values(), ...operation.embeddings.values()];
    for (const span of open) if (span) endFailed(span, error);
    endFailed(operation.root, error);
  }

  /** Ends the oldest operation with what it left open; its model call and tools say so too. */
  #abandonOldest(): void {
    const oldestId = this.#operations.keys().next().value;
    const oldest = oldestId === undefined ? undefined : this.#take(oldestId);
    if (!oldest) return;
    for (const span of [oldest.modelCall, ...oldest.tools.values(), ...oldest.embeddings.values(), oldest.root]) {
      span?.addEvent(ABANDONED);
      span?.end();
    }
  }

  #take(callId: string): Operation | undefined {
    const operation = this.#operations.get(callId);
    this.#operations.delete(callId);
    return operation;
  }

  /** Content only when capture is on, the call did not switch it off (`telemetry.recordInputs: false`) and the span records (not sampled out). */
  #records(span: Span, event: AiEvent, side: 'recordInputs' | 'recordOutputs'): boolean {
    return capturesContent(this.#captureContent, span) && event[side] !== false;
  }

  #guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      diag.warn('otel-mlflow: could not record an AI SDK event on its span', error);
    }
  }
}

function programTracesItself(): boolean {
  const registered = (globalThis as { AI_SDK_TELEMETRY_INTEGRATIONS?: unknown[] }).AI_SDK_TELEMETRY_INTEGRATIONS ?? [];
  return registered.some((integration) => PROGRAM_INTEGRATIONS.has(record(integration)?.constructor?.name ?? ''));
}

function spanName(operationId: string, functionId: unknown): string {
  return typeof functionId === 'string' && functionId !== '' ? `${operationId} ${functionId}` : operationId;
}

/** The AI SDK names providers by API (`openai.chat`, `openai.responses`); MLflow and the GenAI conventions by vendor. */
function modelAttributes(event: AiEvent): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (typeof event.modelId === 'string') {
    attributes['gen_ai.request.model'] = event.modelId;
    attributes[MlflowAttr.llmModel] = event.modelId;
  }
  if (typeof event.provider === 'string') {
    const vendor = event.provider.split('.')[0] ?? event.provider;
    attributes['gen_ai.provider.name'] = vendor;
    attributes[MlflowAttr.llmProvider] = vendor;
  }
  return attributes;
}

function promptInputs(event: AiEvent): unknown {
  if (event.messages !== undefined) return chatInputs(event.instructions ?? event.system, event.messages);
  const prompt = event.prompt;
  return chatInputs(event.system, typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt);
}

/** The tools a model was offered, as OpenAI's `{type: 'function', function: {name, description, parameters}}`. */
function chatTools(tools: unknown): unknown[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  return tools.flatMap((tool) => {
    const definition = record(tool);
    if (!definition || typeof definition.name !== 'string') return [];
    const { name, description, inputSchema } = definition;
    return [{ type: 'function', function: { name, ...(description !== undefined && { description }), parameters: inputSchema ?? {} } }];
  });
}

/** Vectors say nothing to a reader and can be megabytes: how many, and how long. */
function embeddingsSummary(embeddings: unknown): unknown {
  const list = Array.isArray(embeddings) && Array.isArray(embeddings[0]) ? embeddings : [embeddings];
  const first = list[0];
  return { embeddings: list.length, dimensions: Array.isArray(first) ? first.length : 0 };
}

function endOk(span: Span): void {
  span.setStatus({ code: SpanStatusCode.OK });
  span.end();
}

function endFailed(span: Span, error: unknown): void {
  markSpanFailed(span, error);
  span.end();
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}
