import type { AgentStep, Source, Usage } from '../types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { commandLine } from '../../invocation.ts';

/** The agent's three ways to answer, as `ask` and `suite` name them. */
export const ENDPOINTS = ['chat', 'rag', 'agent'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** The route `serve` answers each endpoint on. */
export const ENDPOINT_PATHS: Record<Endpoint, string> = { chat: '/chat', rag: '/rag/v1/answer', agent: '/agent/task' };

/** One answer, whether it came from the agent in this process or from a server's JSON. */
export interface AgentAnswer {
  answer: string;
  model: string;
  usage: Usage;
  sources?: Source[];
  steps?: AgentStep[];
  /** Agent only: false when it ran out of steps. */
  finished?: boolean;
  /** `tr-<32 hex>`; absent when no trace was recorded (tracing off, or not sampled). */
  traceId?: string;
  /** The trace in the MLflow UI, when the experiment is known. */
  traceUrl?: string;
}

/** The JSON body each route takes; only /chat groups requests into a session. */
export function requestBody(endpoint: Endpoint, question: string, sessionId?: string): Record<string, unknown> {
  switch (endpoint) {
    case 'chat':
      return { query: question, ...(sessionId !== undefined && { session_id: sessionId }) };
    case 'rag':
      return { query: question };
    case 'agent':
      return { task: question };
  }
}

/** `--url` as given: an http(s) address of a running `otel-mlflow serve`, possibly under a path prefix. */
export function parseServerUrl(value: string, flag: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ExpectedError(`${flag} must be an http:// or https:// address (got '${value}')`, {
      exitCode: ExitCode.usage,
      hint: `the address \`${commandLine('serve')}\` prints when it starts, e.g. http://127.0.0.1:8000`,
    });
  }
  return url;
}

/** `path` under the server's address, keeping any prefix a proxy serves it under. */
export function serverRoute(server: URL, path: string): URL {
  return new URL(`${server.pathname.replace(/\/+$/, '')}${path}`, server);
}
