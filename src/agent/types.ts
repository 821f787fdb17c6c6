/** Token counts as MLflow records them. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface ChatRequest {
  query: string;
  session_id?: string;
  user_id?: string;
}

export interface ChatResult {
  answer: string;
  model: string;
  usage: Usage;
}

export type ChatStreamEvent = { type: 'delta'; text: string } | { type: 'done'; result: ChatResult };

export interface RagRequest {
  query: string;
  top_k?: number;
}

export interface Source {
  id: string;
  title: string;
  score: number;
  url?: string;
}

export interface RagResult {
  answer: string;
  model: string;
  sources: Source[];
  usage: Usage;
}

export interface AgentTaskRequest {
  task: string;
  max_steps?: number;
}

interface ToolCallRecord {
  name: string;
  arguments: unknown;
  result: unknown;
}

export interface AgentStep {
  step: number;
  tool_calls: ToolCallRecord[];
}

export interface AgentTaskResult {
  answer: string;
  model: string;
  /** False when max_steps ran out before the model gave a final answer. */
  finished: boolean;
  steps: AgentStep[];
  usage: Usage;
}

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
