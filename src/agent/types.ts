import type { z } from '@hono/zod-openapi';
import type * as api from './api-schemas.ts';

/** What the routes take, after validation and defaults: the service sees what the API promises. */
export type ChatRequest = Omit<z.output<typeof api.ChatRequest>, 'stream'>;
export type RagRequest = z.output<typeof api.RagRequest>;
export type AgentTaskRequest = z.output<typeof api.AgentTaskRequest>;

/** What the routes answer, but for the trace, which the route adds. */
type Answered<T extends z.ZodType> = Omit<z.output<T>, 'trace_id' | 'trace_url'>;
export type ChatResult = Answered<typeof api.ChatResponse>;
export type RagResult = Answered<typeof api.RagResponse>;
export type AgentTaskResult = Answered<typeof api.AgentTaskResponse>;

/** Token counts as MLflow records them. */
export type Usage = ChatResult['usage'];
export type Source = RagResult['sources'][number];
export type AgentStep = AgentTaskResult['steps'][number];

export type ChatStreamEvent = { type: 'delta'; text: string } | { type: 'done'; result: ChatResult };

/**
 * The work behind each endpoint. Methods run inside the request's span (the active context), create
 * their own child spans, throw LlmError when the model provider fails, and AnswerAborted when
 * `signal` aborts (the caller went away), which also cancels the model call in flight.
 */
export interface AgentService {
  chat(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
  /** Deltas as the model produces them, then one `done`; stops early when `signal` aborts. */
  chatStream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
  rag(request: RagRequest, signal?: AbortSignal): Promise<RagResult>;
  agentTask(request: AgentTaskRequest, signal?: AbortSignal): Promise<AgentTaskResult>;
}

/** The caller stopped waiting before the answer was complete; nobody is left to answer. */
export class AnswerAborted extends Error {
  constructor(options: { cause?: unknown } = {}) {
    super('the caller went away before the answer was complete', options);
    this.name = 'AnswerAborted';
  }
}

/** The model provider failed (network, 429, 5xx, bad key): the server answers 502 with this message. */
export class LlmError extends Error {
  readonly status: number | undefined;
  /** No connection could be made (DNS, refused, TLS): every call fails alike until the cause is fixed. */
  readonly unreachable: boolean;
  constructor(message: string, options: { status?: number; cause?: unknown; unreachable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LlmError';
    this.status = options.status;
    this.unreachable = options.unreachable === true;
  }
}
