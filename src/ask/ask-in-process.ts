import { SpanKind, context, trace, type Tracer } from '@opentelemetry/api';
import { DEFAULT_MAX_STEPS, DEFAULT_TOP_K } from '../agent/agent-service.ts';
import type { AgentService, ChatResult } from '../agent/types.ts';
import type { AgentAnswer, Endpoint } from '../agent-client/endpoints.ts';
import { AskInterrupted } from './ask-failures.ts';
import { assistantMessageOutputs, userMessageInputs } from '../server/chat-shapes.ts';
import { setSpanInputs, setSpanOutputs, setSpanType } from '../tracing/encode-attributes.ts';
import type { SpanType } from '../tracing/mlflow-attributes.ts';
import { mlflowTraceId } from '../tracing/trace-id.ts';
import { markSpanFailed } from '../tracing/with-span.ts';

/** The same span types serve gives each route's root span. */
const ROOT_SPAN_TYPES: Record<Endpoint, SpanType> = { chat: 'CHAIN', rag: 'CHAIN', agent: 'AGENT' };

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

export type AskOutcome = { ok: true; answer: AgentAnswer } | { ok: false; traceId: string; error: unknown };

/**
 * One question through the agent, in this process, as one trace: a root span shaped like serve's
 * (`ask chat` where serve has `POST /chat`), so MLflow previews the question and the answer alike.
 * Never throws for the agent's failures: they come back with the trace id, whose trace records them.
 */
export async function askInProcess(deps: AskInProcessDeps, options: AskInProcessOptions): Promise<AskOutcome> {
  const { endpoint, question } = options;
  const span = deps.tracer.startSpan(`ask ${endpoint}`, { kind: SpanKind.INTERNAL });
  setSpanType(span, ROOT_SPAN_TYPES[endpoint]);
  setSpanInputs(span, userMessageInputs(question, endpoint === 'rag' ? { top_k: DEFAULT_TOP_K } : endpoint === 'agent' ? { max_steps: DEFAULT_MAX_STEPS } : {}));
  const traceId = mlflowTraceId(span.spanContext().traceId);
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
    const traceUrl = deps.traceLink(traceId);
    return { ok: true, answer: { ...result.answer, traceId, ...(traceUrl && { traceUrl }) } };
  } catch (error) {
    const failure = options.signal?.aborted ? new AskInterrupted() : error;
    if (failure instanceof AskInterrupted) setSpanOutputs(span, assistantMessageOutputs(partial, {}, null));
    markSpanFailed(span, failure);
    return { ok: false, traceId, error: failure };
  } finally {
    span.end();
  }
}

type Answered = { answer: Omit<AgentAnswer, 'traceId' | 'traceUrl'>; outputs: unknown };

async function answer(agent: AgentService, options: AskInProcessOptions, onDelta: (text: string) => void): Promise<Answered> {
  switch (options.endpoint) {
    case 'chat': {
      const result = options.onDelta
        ? await streamChat(agent, options.question, onDelta, options.signal ?? new AbortController().signal)
        : await agent.chat({ query: options.question }, options.signal);
      return { answer: result, outputs: assistantMessageOutputs(result.answer, { model: result.model }) };
    }
    case 'rag': {
      const result = await agent.rag({ query: options.question, top_k: DEFAULT_TOP_K }, options.signal);
      return { answer: result, outputs: assistantMessageOutputs(result.answer, { model: result.model, sources: result.sources }) };
    }
    case 'agent': {
      const result = await agent.agentTask({ task: options.question, max_steps: DEFAULT_MAX_STEPS }, options.signal);
      const extra = { model: result.model, finished: result.finished, steps: result.steps };
      return { answer: result, outputs: assistantMessageOutputs(result.answer, extra, result.finished ? 'stop' : 'length') };
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
