import type { Usage } from '../agent/types.ts';
import { ENDPOINT_PATHS, requestBody, serverRoute, type AgentAnswer, type Endpoint } from './endpoints.ts';
import { describeFetchFailure } from './fetch-failure.ts';

/** How long one question may take through a server: the agent endpoint makes several model calls. */
export const ANSWER_TIMEOUT_MS = 180_000;

export interface PostQuestionOptions {
  /** Sent as `Authorization: Bearer …`; never echoed in errors. */
  authToken?: string;
  /** /chat only: groups the requests of a run as one MLflow session. */
  sessionId?: string;
  timeoutMs: number;
}

export type PostOutcome =
  | { ok: true; httpStatus: number; answer: AgentAnswer }
  | {
      ok: false;
      /** Null when no HTTP answer came (refused, reset, timed out). */
      httpStatus: number | null;
      /** The server's error code (`llm_error`, `invalid_request`…), when it sent one. */
      code?: string;
      error: string;
      /** The server traces refused and failed requests too (`x-trace-id`). */
      traceId?: string;
    };

interface AnswerJson {
  answer?: unknown;
  model?: unknown;
  usage?: Partial<Usage>;
  sources?: AgentAnswer['sources'];
  steps?: AgentAnswer['steps'];
  finished?: unknown;
  trace_id?: unknown;
  trace_url?: unknown;
  error?: { code?: unknown; message?: unknown };
}

/** One question to a running `otel-mlflow serve`. Never throws: every failure is an outcome to report. */
export async function postQuestion(server: URL, endpoint: Endpoint, question: string, options: PostQuestionOptions): Promise<PostOutcome> {
  const url = serverRoute(server, ENDPOINT_PATHS[endpoint]);
  let response: Response;
  let body: AnswerJson | undefined;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.authToken && { authorization: `Bearer ${options.authToken}` }),
      },
      body: JSON.stringify(requestBody(endpoint, question, options.sessionId)),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    body = (await response.json().catch(() => undefined)) as AnswerJson | undefined;
  } catch (error) {
    return { ok: false, httpStatus: null, error: describeFetchFailure(error, url.origin, options.timeoutMs) };
  }
  const headerTraceId = response.headers.get('x-trace-id') ?? undefined;
  if (response.ok && typeof body?.answer === 'string' && typeof body.trace_id === 'string') {
    return { ok: true, httpStatus: response.status, answer: toAnswer(body, body.answer, body.trace_id) };
  }
  const code = typeof body?.error?.code === 'string' ? body.error.code : undefined;
  const message = typeof body?.error?.message === 'string' ? body.error.message : undefined;
  return {
    ok: false,
    httpStatus: response.status,
    ...(code && { code }),
    error: response.ok
      ? `${url.origin} answered ${response.status} without an answer: is it an otel-mlflow server?`
      : `HTTP ${response.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
    ...(headerTraceId && { traceId: headerTraceId }),
  };
}

function toAnswer(body: AnswerJson, answer: string, traceId: string): AgentAnswer {
  const input = body.usage?.input_tokens ?? 0;
  const output = body.usage?.output_tokens ?? 0;
  return {
    answer,
    model: typeof body.model === 'string' ? body.model : '',
    usage: { input_tokens: input, output_tokens: output, total_tokens: body.usage?.total_tokens ?? input + output },
    ...(Array.isArray(body.sources) && { sources: body.sources }),
    ...(Array.isArray(body.steps) && { steps: body.steps }),
    ...(typeof body.finished === 'boolean' && { finished: body.finished }),
    traceId,
    ...(typeof body.trace_url === 'string' && { traceUrl: body.trace_url }),
  };
}
