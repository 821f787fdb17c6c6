import type { Tracer } from '@opentelemetry/api';
import type { Stream } from 'openai/core/streaming';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { searchCorpus } from './llm/retrieve.ts';
import type { LlmClient } from './llm/types.ts';
import { withSpan } from '../tracing/with-span.ts';
import { plural } from '../util/plural.ts';
import { toLlmError } from './llm-errors.ts';
import { AGENT_TOOLS, round, runTool } from './tools.ts';
import {
  AnswerAborted,
  type AgentService,
  type AgentStep,
  type AgentTaskRequest,
  type AgentTaskResult,
  type ChatRequest,
  type ChatResult,
  type ChatStreamEvent,
  type RagRequest,
  type RagResult,
  type Usage,
} from './types.ts';

const SYSTEM_PROMPT = 'You are a concise assistant for engineers who use Databricks, MLflow and OpenTelemetry. Answer in a few sentences.';
const RAG_PROMPT = `${SYSTEM_PROMPT} Answer only from the context given, and name the passages you used.`;
const AGENT_PROMPT = `${SYSTEM_PROMPT} Use the tools when they help: search_corpus for facts, calculator for arithmetic.`;

export interface AgentDeps {
  llm: LlmClient;
  tracer: Tracer;
}

/** The endpoints' work: each call nests its spans under the request's span and reports token usage. */
export function createAgentService(deps: AgentDeps): AgentService {
  return {
    chat: (request, signal) => chat(deps, request, signal),
    chatStream: (request, signal) => chatStream(deps, request, signal),
    rag: (request, signal) => rag(deps, request, signal),
    agentTask: (request, signal) => agentTask(deps, request, signal),
  };
}

async function complete(
  llm: LlmClient,
  messages: ChatCompletionMessageParam[],
  signal: AbortSignal | undefined,
  withTools = false,
): Promise<ChatCompletion> {
  try {
    return await llm.client.chat.completions.create(
      { model: llm.model, messages, ...(withTools && { tools: AGENT_TOOLS, tool_choice: 'auto' as const }) },
      signal && { signal },
    );
  } catch (error) {
    throw toLlmError(error, llm);
  }
}

async function chat({ llm }: AgentDeps, request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
  const response = await complete(llm, chatMessages(SYSTEM_PROMPT, request.query), signal);
  return { answer: answerOf(response), model: response.model || llm.model, usage: usageOf(response.usage) };
}

async function* chatStream({ llm }: AgentDeps, request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
  let stream: Stream<ChatCompletionChunk>;
  try {
    stream = await llm.client.chat.completions.create(
      { model: llm.model, messages: chatMessages(SYSTEM_PROMPT, request.query), stream: true, stream_options: { include_usage: true } },
      { signal },
    );
  } catch (error) {
    throw toLlmError(error, llm);
  }
  let answer = '';
  let model = llm.model;
  let usage: CompletionUsage | undefined;
  try {
    for await (const chunk of stream) {
      if (chunk.model) model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      const text = chunk.choices[0]?.delta?.content;
      if (text) {
        answer += text;
        yield { type: 'delta', text };
      }
    }
  } catch (error) {
    throw toLlmError(error, llm);
  }
  // The openai stream ends quietly when aborted: that is the caller leaving, not the model finishing.
  if (signal.aborted) throw new AnswerAborted();
  yield { type: 'done', result: { answer, model, usage: usageOf(usage) } };
}

async function rag({ llm, tracer }: AgentDeps, request: RagRequest, signal?: AbortSignal): Promise<RagResult> {
  const hits = await retrieveDocuments(tracer, request.query, request.top_k);
  const contextText = await withSpan(
    tracer,
    'generate_context',
    { type: 'CHAIN', inputs: { document_ids: hits.map((h) => h.passage.id) }, outputs: (text) => ({ context: text }) },
    async () => hits.map(({ passage }, i) => `[${i + 1}] ${passage.title}: ${passage.text}`).join('\n\n'),
  );
  const response = await withSpan(
    tracer,
    'generate_answer',
    { type: 'CHAIN', inputs: { query: request.query, context: contextText }, outputs: (r) => ({ answer: answerOf(r) }) },
    () =>
      complete(
        llm,
        [
          { role: 'system', content: RAG_PROMPT },
          { role: 'user', content: `Context:\n${contextText}\n\nQuestion: ${request.query}` },
        ],
        signal,
      ),
  );
  return {
    answer: answerOf(response),
    model: response.model || llm.model,
    sources: hits.map(({ passage, score }) => ({
      id: passage.id,
      title: passage.title,
      score: round(score),
      ...(passage.url && { url: passage.url }),
    })),
    usage: usageOf(response.usage),
  };
}

function retrieveDocuments(tracer: Tracer, query: string, topK: number) {
  return withSpan(
    tracer,
    'retrieve_documents',
    {
      type: 'RETRIEVER',
      inputs: { query, top_k: topK },
      // MLflow renders RETRIEVER outputs as documents: page_content, metadata, id.
      outputs: (found) => ({
        documents: found.map(({ passage, score }) => ({
          id: passage.id,
          page_content: passage.text,
          metadata: { title: passage.title, score: round(score), ...(passage.url && { url: passage.url }) },
        })),
      }),
    },
    async () => searchCorpus(query, topK),
  );
}

async function agentTask(deps: AgentDeps, request: AgentTaskRequest, signal?: AbortSignal): Promise<AgentTaskResult> {
  const maxSteps = request.max_steps;
  const messages = chatMessages(AGENT_PROMPT, request.task);
  const steps: AgentStep[] = [];
  const usage: Usage = { input_tokens: 0, output_tokens: 0, total_tokens: 0 };
  let model = deps.llm.model;
  for (let step = 1; step <= maxSteps; step++) {
    const outcome = await withSpan(
      deps.tracer,
      `step_${step}`,
      { type: 'CHAIN', inputs: { step, messages: messages.length }, outputs: (o) => o.record ?? { answer: o.answer } },
      async () => {
        const response = await complete(deps.llm, messages, signal, true);
        model = response.model || model;
        addUsage(usage, usageOf(response.usage));
        return agentStep(deps.tracer, step, response, messages);
      },
    );
    if (outcome.answer !== undefined) return { answer: outcome.answer, model, finished: true, steps, usage };
    steps.push(outcome.record!);
  }
  return { answer: `Stopped after ${plural(maxSteps, 'step')} without a final answer.`, model, finished: false, steps, usage };
}

/** The model's answer ends the task; its tool calls run, each a TOOL span, their results added to the conversation. */
async function agentStep(
  tracer: Tracer,
  step: number,
  response: ChatCompletion,
  messages: ChatCompletionMessageParam[],
): Promise<{ answer?: string; record?: AgentStep }> {
  const message = response.choices[0]?.message;
  const toolCalls = (message?.tool_calls ?? []).filter((call) => call.type === 'function');
  if (toolCalls.length === 0) return { answer: message?.content ?? '' };
  messages.push({ role: 'assistant', content: message?.content ?? null, tool_calls: toolCalls });
  const record: AgentStep = { step, tool_calls: [] };
  for (const call of toolCalls) {
    const ran = await withSpan<ReturnType<typeof runTool>>(
      tracer,
      call.function.name,
      { type: 'TOOL', inputs: safeJson(call.function.arguments), outputs: (r) => r.result },
      async (span) => {
        const result = runTool(call.function.name, call.function.arguments);
        if (!result.ok) span.setAttribute('otel_mlflow.tool.error', true);
        return result;
      },
    );
    record.tool_calls.push({ name: call.function.name, arguments: ran.arguments, result: ran.result });
    messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(ran.result) });
  }
  return { record };
}

function chatMessages(system: string, user: string): ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

function answerOf(response: ChatCompletion): string {
  return response.choices[0]?.message?.content ?? '';
}

function usageOf(usage: CompletionUsage | undefined | null): Usage {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return { input_tokens: input, output_tokens: output, total_tokens: usage?.total_tokens ?? input + output };
}

function addUsage(total: Usage, more: Usage): void {
  total.input_tokens += more.input_tokens;
  total.output_tokens += more.output_tokens;
  total.total_tokens += more.total_tokens;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}
