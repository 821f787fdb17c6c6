import { context, diag, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { capturesContent } from '../content-filter.ts';
import { setSpanInputs, setSpanOutputs, setSpanType, setTokenUsage } from '../encode-attributes.ts';
import { MlflowAttr, type SpanType } from '../mlflow-attributes.ts';
import { markSpanFailed } from '../with-span.ts';
import { chatMessage, document, isFields, isMessage, plainValue } from './langchain-values.ts';

export interface LangChainTracingOptions {
  tracer: Tracer;
  /** Record inputs, outputs, prompts and documents; token usage, models and timings are always recorded. */
  captureContent: boolean;
  /** Runs kept open at most (default {@link MAX_OPEN_RUNS}); beyond, the oldest is ended as abandoned. */
  maxOpenRuns?: number;
}

type Fields = Record<string, unknown>;

/** A run still open: its span, and its children, which end with it when LangChain never reports them (a stream left unread). */
interface OpenRun {
  span: Span;
  parentRunId: string | undefined;
  children: Set<string>;
}

/** Event on a span ended because its parent run ended first: LangChain never said how it ended. */
const ENDED_WITH_PARENT = 'otel_mlflow.run.ended_with_parent';
/** Event on a span ended to make room: LangChain reports nothing when a program stops reading a stream. */
const ABANDONED = 'otel_mlflow.run.abandoned';
/**
 * A program that stops reading LangChain streams (a client that went away mid-answer) leaves their
 * runs open for ever; past this many, the oldest are ended so that memory stays bounded and their
 * spans still reach MLflow.
 */
const MAX_OPEN_RUNS = 10_000;

/**
 * A LangChain callback handler that makes one OpenTelemetry span per run, with MLflow's attributes:
 * chains CHAIN (output parsers PARSER), chat models CHAT_MODEL with the messages in and the answer
 * out in OpenAI's chat shape and the call's token usage, plain LLMs LLM, tools TOOL, retrievers
 * RETRIEVER with the documents they found. Runs nest by `parentRunId`; a run without a parent sits
 * under the OpenTelemetry context active when it started (an HTTP request's span, say). Usage sits
 * on model calls only, so MLflow counts it once per trace.
 *
 * It extends nothing: the program's own copy of @langchain/core calls it by shape (name, the
 * `ignore*` / `raiseError` / `awaitHandlers` flags and the handle* methods), so the tool does not
 * bring a second copy. `awaitHandlers` makes LangChain call it in line, where the caller's context is
 * still active. Its own failures are logged, never thrown into the program.
 */
export class MlflowCallbackHandler {
  readonly name = 'otel_mlflow_tracer';
  readonly awaitHandlers = true;
  readonly raiseError = false;
  readonly ignoreLLM = false;
  readonly ignoreChain = false;
  readonly ignoreAgent = false;
  readonly ignoreRetriever = false;
  readonly ignoreCustomEvent = true;
  readonly #tracer: Tracer;
  readonly #captureContent: boolean;
  readonly #maxOpenRuns: number;
  /** In the order the runs started: the first is the oldest. */
  readonly #runs = new Map<string, OpenRun>();

  constructor(options: LangChainTracingOptions) {
    this.#tracer = options.tracer;
    this.#captureContent = options.captureContent;
    this.#maxOpenRuns = options.maxOpenRuns ?? MAX_OPEN_RUNS;
  }

  /** One handler for every run: LangChain copies handlers into child managers, and the runs must meet in one map. */
  copy(): this {
    return this;
  }

  /** LangChain calls it with the parent run fourth and the run type seventh, whatever its own declaration says. */
  handleChainStart(
    chain: unknown,
    inputs: unknown,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Fields,
    runType?: string,
    runName?: string,
  ): void {
    this.#guard(() => {
      const type: SpanType = runType === 'parser' ? 'PARSER' : 'CHAIN';
      const span = this.#start(runId, parentRunId, runName ?? serializedName(chain, 'chain'), type, SpanKind.INTERNAL);
      if (capturesContent(this.#captureContent, span)) setSpanInputs(span, unwrapped(plainValue(inputs), 'input'));
    });
  }

  handleChainEnd(outputs: unknown, runId: string): void {
    this.#guard(() => this.#end(runId, (span) => this.#captureContent && setSpanOutputs(span, unwrapped(plainValue(outputs), 'output'))));
  }

  handleChainError(error: unknown, runId: string): void {
    this.#fail(runId, error);
  }

  handleChatModelStart(
    llm: unknown,
    messages: unknown[][],
    runId: string,
    parentRunId?: string,
    extraParams?: Fields,
    _tags?: string[],
    metadata?: Fields,
    runName?: string,
  ): void {
    this.#guard(() => {
      const span = this.#start(runId, parentRunId, runName ?? serializedName(llm, 'chat model'), 'CHAT_MODEL', SpanKind.CLIENT);
      span.setAttributes({ ...modelAttributes(extraParams, metadata), 'gen_ai.operation.name': 'chat' });
      if (!capturesContent(this.#captureContent, span)) return;
      const prompt = (messages[0] ?? []).filter(isMessage).map(chatMessage);
      setSpanInputs(span, { messages: prompt });
      span.setAttribute(MlflowAttr.messageFormat, 'openai');
      const tools = invocationParams(extraParams)?.tools;
      if (Array.isArray(tools) && tools.length > 0) span.setAttribute(MlflowAttr.chatTools, JSON.stringify(tools));
    });
  }

  handleLLMStart(
    llm: unknown,
    prompts: string[],
    runId: string,
    parentRunId?: string,
    extraParams?: Fields,
    _tags?: string[],
    metadata?: Fields,
    runName?: string,
  ): void {
    this.#guard(() => {
      const span = this.#start(runId, parentRunId, runName ?? serializedName(llm, 'llm'), 'LLM', SpanKind.CLIENT);
      span.setAttributes({ ...modelAttributes(extraParams, metadata), 'gen_ai.operation.name': 'text_completion' });
      if (capturesContent(this.#captureContent, span)) setSpanInputs(span, { prompts });
    });
  }

  handleLLMEnd(output: unknown, runId: string): void {
    this.#guard(() =>
      this.#end(runId, (span) => {
        const result = isFields(output) ? output : {};
        const generations =
          Array.isArray(result.generations) && Array.isArray(result.generations[0]) ? result.generations[0].filter(isFields) : [];
        const usage = tokenUsage(generations, result.llmOutput);
        if (usage) setTokenUsage(span, usage);
        const responseModel = responseModelOf(generations, result.llmOutput);
        if (responseModel !== undefined) span.setAttribute('gen_ai.response.model', responseModel);
        if (!this.#captureContent) return;
        const chat = generations.some((generation) => isMessage(generation.message));
        if (chat) setSpanOutputs(span, { choices: generations.map(choice) });
        else setSpanOutputs(span, generations.length === 1 ? generations[0]?.text : generations.map((generation) => generation.text));
      }),
    );
  }

  handleLLMError(error: unknown, runId: string): void {
    this.#fail(runId, error);
  }

  handleToolStart(
    tool: unknown,
    input: string,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Fields,
    runName?: string,
    toolCallId?: string,
  ): void {
    this.#guard(() => {
      const name = runName ?? serializedName(tool, 'tool');
      const span = this.#start(runId, parentRunId, name, 'TOOL', SpanKind.INTERNAL);
      span.setAttributes({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name });
      if (toolCallId) span.setAttribute('gen_ai.tool.call.id', toolCallId);
      if (capturesContent(this.#captureContent, span)) setSpanInputs(span, parsedJson(input));
    });
  }

  handleToolEnd(output: unknown, runId: string): void {
    this.#guard(() =>
      this.#end(runId, (span) => {
        if (!this.#captureContent) return;
        // A tool's result reaches the model as a ToolMessage; its content is what the tool said.
        setSpanOutputs(span, isMessage(output) ? parsedJson(output.content) : plainValue(output));
      }),
    );
  }

  handleToolError(error: unknown, runId: string): void {
    this.#fail(runId, error);
  }

  handleRetrieverStart(
    retriever: unknown,
    query: string,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Fields,
    name?: string,
  ): void {
    this.#guard(() => {
      const span = this.#start(runId, parentRunId, name ?? serializedName(retriever, 'retriever'), 'RETRIEVER', SpanKind.INTERNAL);
      if (capturesContent(this.#captureContent, span)) setSpanInputs(span, { query });
    });
  }

  handleRetrieverEnd(documents: unknown, runId: string): void {
    this.#guard(() =>
      this.#end(runId, (span) => {
        // MLflow renders RETRIEVER outputs as documents: page_content, metadata, id.
        if (this.#captureContent && Array.isArray(documents)) setSpanOutputs(span, { documents: documents.filter(isFields).map(document) });
      }),
    );
  }

  handleRetrieverError(error: unknown, runId: string): void {
    this.#fail(runId, error);
  }

  #start(runId: string, parentRunId: string | undefined, name: string, type: SpanType, kind: SpanKind): Span {
    const parent = parentRunId === undefined ? undefined : this.#runs.get(parentRunId);
    const parentContext = parent ? trace.setSpan(context.active(), parent.span) : context.active();
    const span = this.#tracer.startSpan(name, { kind }, parentContext);
    setSpanType(span, type);
    this.#runs.set(runId, { span, parentRunId: parent ? parentRunId : undefined, children: new Set() });
    parent?.children.add(runId);
    if (this.#runs.size > this.#maxOpenRuns) this.#abandonOldest();
    return span;
  }

  /** Ends the oldest run with what runs inside it: a run starts after its parent and ends no later, so the oldest is an outermost one. */
  #abandonOldest(): void {
    const oldestId = this.#runs.keys().next().value;
    const oldest = oldestId === undefined ? undefined : this.#take(oldestId);
    if (!oldest) return;
    oldest.span.addEvent(ABANDONED);
    this.#endChildren(oldest);
    oldest.span.end();
  }

  #end(runId: string, record: (span: Span) => unknown): void {
    const run = this.#take(runId);
    if (!run) return;
    try {
      if (!run.span.isRecording()) return;
      record(run.span);
      run.span.setStatus({ code: SpanStatusCode.OK });
    } finally {
      this.#endChildren(run);
      run.span.end();
    }
  }

  #fail(runId: string, error: unknown): void {
    this.#guard(() => {
      const run = this.#take(runId);
      if (!run) return;
      markSpanFailed(run.span, error);
      this.#endChildren(run);
      run.span.end();
    });
  }

  /** Children LangChain never ended (a model stream the program stopped reading) end with their parent. */
  #endChildren(run: OpenRun): void {
    for (const childId of run.children) {
      const child = this.#take(childId);
      if (!child) continue;
      child.span.addEvent(ENDED_WITH_PARENT);
      this.#endChildren(child);
      child.span.end();
    }
  }

  #take(runId: string): OpenRun | undefined {
    const run = this.#runs.get(runId);
    if (!run) return undefined;
    this.#runs.delete(runId);
    if (run.parentRunId !== undefined) this.#runs.get(run.parentRunId)?.children.delete(runId);
    return run;
  }

  #guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      diag.warn('otel-mlflow: could not record a LangChain run on its span', error);
    }
  }
}

/** LangChain's serialised form of a runnable: `{lc, type, id: ['langchain', …, 'ChatOpenAI'], name?}`. */
function serializedName(serialized: unknown, fallback: string): string {
  if (!isFields(serialized)) return fallback;
  if (typeof serialized.name === 'string' && serialized.name !== '') return serialized.name;
  const id = Array.isArray(serialized.id) ? serialized.id.at(-1) : undefined;
  return typeof id === 'string' && id !== '' ? id : fallback;
}

function invocationParams(extraParams: Fields | undefined): Fields | undefined {
  const params = extraParams?.invocation_params;
  return isFields(params) ? params : undefined;
}

/** The model asked for and its vendor, from the invocation parameters and LangChain's `ls_*` tracing metadata. */
function modelAttributes(extraParams: Fields | undefined, metadata: Fields | undefined): Attributes {
  const params = invocationParams(extraParams);
  const model = [params?.model, params?.model_name, params?.modelName, metadata?.ls_model_name].find(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  const provider = typeof metadata?.ls_provider === 'string' && metadata.ls_provider !== '' ? metadata.ls_provider : undefined;
  const attributes: Attributes = {};
  if (model !== undefined) {
    attributes['gen_ai.request.model'] = model;
    attributes[MlflowAttr.llmModel] = model;
  }
  if (provider !== undefined) {
    attributes['gen_ai.provider.name'] = provider;
    attributes[MlflowAttr.llmProvider] = provider;
  }
  const temperature = params?.temperature;
  if (typeof temperature === 'number') attributes['gen_ai.request.temperature'] = temperature;
  return attributes;
}

function choice(generation: Fields, index: number): Fields {
  const message = isMessage(generation.message) ? chatMessage(generation.message) : { role: 'assistant', content: generation.text ?? null };
  const info = isFields(generation.generationInfo) ? generation.generationInfo : {};
  const metadata =
    isMessage(generation.message) && isFields(generation.message.response_metadata) ? generation.message.response_metadata : {};
  const finishReason = info.finish_reason ?? metadata.finish_reason;
  return { index, message, ...(typeof finishReason === 'string' && { finish_reason: finishReason }) };
}

/** The message's `usage_metadata` (what the provider counted), else the model's `llmOutput.tokenUsage`. */
function tokenUsage(generations: Fields[], llmOutput: unknown): { input: number; output: number } | undefined {
  let input = 0;
  let output = 0;
  let found = false;
  for (const generation of generations) {
    const usage = isFields(generation.message) ? generation.message.usage_metadata : undefined;
    if (!isFields(usage) || typeof usage.input_tokens !== 'number' || typeof usage.output_tokens !== 'number') continue;
    input += usage.input_tokens;
    output += usage.output_tokens;
    found = true;
  }
  if (found) return { input, output };
  const counted = isFields(llmOutput) && isFields(llmOutput.tokenUsage) ? llmOutput.tokenUsage : undefined;
  if (typeof counted?.promptTokens === 'number' && typeof counted.completionTokens === 'number') {
    return { input: counted.promptTokens, output: counted.completionTokens };
  }
  return undefined;
}

function responseModelOf(generations: Fields[], llmOutput: unknown): string | undefined {
  const message = generations[0]?.message;
  const metadata = isFields(message) && isFields(message.response_metadata) ? message.response_metadata : {};
  const model = metadata.model_name ?? metadata.model ?? (isFields(llmOutput) ? llmOutput.model_name : undefined);
  return typeof model === 'string' && model !== '' ? model : undefined;
}

/** LangChain hands a runnable's bare value to callbacks as `{input: value}` / `{output: value}`: shown as the value itself. */
function unwrapped(value: unknown, key: 'input' | 'output'): unknown {
  return isFields(value) && Object.keys(value).length === 1 && key in value ? value[key] : value;
}

/** Tool input and output are often JSON text: shown as the object they carry. */
function parsedJson(value: unknown): unknown {
  if (typeof value !== 'string') return plainValue(value);
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
