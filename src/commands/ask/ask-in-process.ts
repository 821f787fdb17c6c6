import { SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api';
import { MAX_STEPS, TOP_K } from '../../agent/request-limits.ts';
import { ROOT_SPANS, unfinishedAnswerOutputs } from '../../agent/root-span.ts';
import type { AgentService, ChatResult } from '../../agent/types.ts';
import type { AgentAnswer, Endpoint } from '../../agent/client/endpoints.ts';
import { AskInterrupted } from './ask-failures.ts';
import { setSpanInputs, setSpanOutputs, setSpanType } from '../../tracing/encode-attributes.ts';
import { mlflowTraceId } from '../../tracing/trace-id.ts';
import { markSpanFailed } from '../../tracing/with-span.ts';

export interface AskInProcessDeps {
  agent: AgentService;
  tracer: Tracer;
  traceLink(traceId: string): string | undefined;
}

export interface AskInProcessOptions {
  endpoint: Endpoint;
  question: string;
  /** Chat only: stream the answer, handing over each piece as the model writes it. */
  onDelta?: (text: string) => void;
  /** Stops waiting (Ctrl-C): the trace ends as interrupted, with what was answered so far. */
  signal?: AbortSignal;
}

/** `traceId` is absent when nothing was recorded (tracing off, or the trace not sampled). */
export type AskOutcome = { ok: true; answer: AgentAnswer } | { ok: false; traceId?: string; error: unknown };

/**
 * One question through the agent, in this process, as one trace: a root span shaped like serve's
 * (`ask chat` where serve has `POST /chat`), so MLflow previews the question and the answer alike.
 * Never throws for the agent's failures: they come back with the trace id, whose trace records them.
 */
export async function askInProcess(deps: AskInProcessDeps, options: AskInProcessOptions): Promise<AskOutcome> {
  const { endpoint, question } = options;
  const span = deps.tracer.startSpan(`ask ${endpoint}`, { kind: SpanKind.INTERNAL });
  setSpanType(span, ROOT_SPANS[endpoint].type);
  setSpanInputs(span, rootInputs(endpoint, question));
  const traceId = span.isRecording() ? mlflowTraceId(span.spanContext().traceId) : undefined;
  let partial = '';
  try {
    // Awaited even when interrupted: the abort cancels the model call, and the agent's spans end before the root.
    const result = await context.with(trace.setSpan(context.active(), span), () =>
      answer(deps.agent, options, (text) => {
        partial += text;
        options.onDelta?.(text);
      }),
    );
    setSpanOutputs(span, result.outputs);
    span.setStatus({ code: SpanStatusCode.OK });
    const traceUrl = traceId && deps.traceLink(traceId);
    return { ok: true, answer: { ...result.answer, ...(traceId && { traceId }), ...(traceUrl && { traceUrl }) } };
  } catch (error) {
    const failure = options.signal?.aborted ? new AskInterrupted() : error;
    if (failure instanceof AskInterrupted) setSpanOutputs(span, unfinishedAnswerOutputs(partial));
    markSpanFailed(span, failure);
    return { ok: false, ...(traceId && { traceId }), error: failure };
  } finally {
    span.end();
  }
}

/** What serve's routes would get for the same question, defaults filled in as their schemas fill them. */
const ragRequest = (query: string) => ({ query, top_k: TOP_K.default });
const agentRequest = (task: string) => ({ task, max_steps: MAX_STEPS.default });

function rootInputs(endpoint: Endpoint, question: string): Record<string, unknown> {
  if (endpoint === 'rag') return ROOT_SPANS.rag.inputs(ragRequest(question));
  if (endpoint === 'agent') return ROOT_SPANS.agent.inputs(agentRequest(question));
  return ROOT_SPANS.chat.inputs({ query: question });
}

type Answered = { answer: Omit<AgentAnswer, 'traceId' | 'traceUrl'>; outputs: unknown };

async function answer(agent: AgentService, options: AskInProcessOptions, onDelta: (text: string) => void): Promise<Answered> {
  switch (options.endpoint) {
    case 'chat': {
      const result = options.onDelta
        ? await streamChat(agent, options.question, onDelta, options.signal ?? new AbortController().signal)
        : await agent.chat({ query: options.question }, options.signal);
      return { answer: result, outputs: ROOT_SPANS.chat.outputs(result) };
    }
    case 'rag': {
      const result = await agent.rag(ragRequest(options.question), options.signal);
      return { answer: result, outputs: ROOT_SPANS.rag.outputs(result) };
    }
    case 'agent': {
      const result = await agent.agentTask(agentRequest(options.question), options.signal);
      return { answer: result, outputs: ROOT_SPANS.agent.outputs(result) };
    }
  }
}

async function streamChat(agent: AgentService, query: string, onDelta: (text: string) => void, signal: AbortSignal): Promise<ChatResult> {
  for await (const event of agent.chatStream({ query }, signal)) {
    if (event.type === 'delta') onDelta(event.text);
    else return event.result;
  }
  throw new AskInterrupted();
}
