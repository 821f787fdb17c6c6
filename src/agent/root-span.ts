import type { Endpoint } from './client/endpoints.ts';
import type { SpanType } from '../tracing/mlflow-attributes.ts';
import type { AgentTaskRequest, AgentTaskResult, ChatRequest, ChatResult, RagRequest, RagResult } from './types.ts';

/**
 * MLflow previews a trace from its root span: chat-shaped inputs show the user's text and
 * OpenAI-shaped outputs the assistant's, where any other shape shows raw JSON.
 */
function userMessageInputs(content: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { messages: [{ role: 'user', content }], ...extra };
}

function assistantMessageOutputs(
  content: string,
  extra: Record<string, unknown>,
  /** `null` for an answer cut short, as OpenAI reports a stream that has not finished. */
  finishReason: 'stop' | 'length' | null = 'stop',
): Record<string, unknown> {
  return { choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }], ...extra };
}

interface RootSpanShape<Request, Result> {
  type: SpanType;
  inputs(request: Request): Record<string, unknown>;
  outputs(result: Result): Record<string, unknown>;
}

/**
 * The root span of each endpoint, whether serve's route or `ask` in-process makes it: its span type,
 * and its inputs and outputs in the shapes MLflow previews.
 */
export const ROOT_SPANS = {
  chat: {
    type: 'CHAIN',
    inputs: ({ query, ...rest }: ChatRequest & { stream?: boolean }) => userMessageInputs(query, rest),
    outputs: (result: ChatResult) => assistantMessageOutputs(result.answer, { model: result.model }),
  },
  rag: {
    type: 'CHAIN',
    inputs: ({ query, ...rest }: RagRequest) => userMessageInputs(query, rest),
    outputs: (result: RagResult) => assistantMessageOutputs(result.answer, { model: result.model, sources: result.sources }),
  },
  agent: {
    type: 'AGENT',
    inputs: ({ task, ...rest }: AgentTaskRequest) => userMessageInputs(task, rest),
    outputs: (result: AgentTaskResult) =>
      assistantMessageOutputs(
        result.answer,
        { model: result.model, finished: result.finished, steps: result.steps },
        result.finished ? 'stop' : 'length',
      ),
  },
} satisfies {
  chat: RootSpanShape<ChatRequest, ChatResult>;
  rag: RootSpanShape<RagRequest, RagResult>;
  agent: RootSpanShape<AgentTaskRequest, AgentTaskResult>;
} & Record<Endpoint, unknown>;

/** The outputs of an answer cut short (the client went away, Ctrl-C): what was written until then. */
export function unfinishedAnswerOutputs(partialAnswer: string): Record<string, unknown> {
  return assistantMessageOutputs(partialAnswer, {}, null);
}
