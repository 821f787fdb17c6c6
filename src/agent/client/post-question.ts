import type { Usage } from '../types.ts';
import { isRedirect } from '../../http-client/redirect.ts';
import { AnswerTooLargeError, chunksWithin } from '../../util/bounded-body.ts';
import { ENDPOINT_PATHS, requestBody, serverRoute, type AgentAnswer, type Endpoint } from './endpoints.ts';
import { describeFetchFailure, describeServerRedirect, readServerJson, serverAnswerTooLarge } from './server-answer.ts';
import { readAnswerStream } from './read-answer-stream.ts';

/** How long one question may take through a server: the agent endpoint makes several model calls. */
export const ANSWER_TIMEOUT_MS = 180_000;
/**
 * The most of one answer read, plain or streamed. An answer holds the model's text (under 1 MB even
 * for a very long one), its sources and the agent's steps with tool outputs: a few MB at most. A
 * stream sends the text once more as `delta` events, each wrapped in some 30 bytes of framing. 64 MiB
 * is ample for all of that, and still bounds what a misbehaving server can make `ask` or `suite` hold.
 */
export const ANSWER_MAX_BYTES = 64 * 1024 * 1024;

export interface PostQuestionOptions {
  /** Sent as `Authorization: Bearer …`; never echoed in errors. */
  authToken?: string;
  /** /chat only: groups the requests of a run as one MLflow session. */
  sessionId?: string;
  timeoutMs: number;
  /** /chat only: asks for a streamed answer and hands over each piece as the model writes it. */
  onDelta?: (text: string) => void;
  /** Stops waiting (Ctrl-C); the server then cancels the model call and its trace says so. */
  signal?: AbortSignal;
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
      /** `signal` aborted before the answer was complete. */
      interrupted?: true;
      /** The refusal is not otel-mlflow's error JSON: another server (or a proxy) answered. */
      foreign?: true;
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
  const onDelta = endpoint === 'chat' ? options.onDelta : undefined;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let response: Response | undefined;
  let body: AnswerJson | undefined;
  let streamed = false;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.authToken && { authorization: `Bearer ${options.authToken}` }),
      },
      body: JSON.stringify({ ...requestBody(endpoint, question, options.sessionId), ...(onDelta && { stream: true }) }),
      redirect: 'manual',
      signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
    });
    const reply = response;
    // A failure before the first piece still comes as plain JSON with its HTTP status.
    streamed = Boolean(onDelta && response.ok && response.body && response.headers.get('content-type')?.startsWith('text/event-stream'));
    body = (
      streamed
        ? await readAnswerStream(
            chunksWithin(response.body!, ANSWER_MAX_BYTES, () => serverAnswerTooLarge(url, 'POST', reply, ANSWER_MAX_BYTES)),
            onDelta!,
          )
        : await readServerJson(url, 'POST', response, ANSWER_MAX_BYTES)
    ) as AnswerJson | undefined;
  } catch (error) {
    const traceId = response?.headers.get('x-trace-id') ?? undefined;
    const answered = { httpStatus: response?.status ?? null, ...(traceId && { traceId }) };
    if (options.signal?.aborted) return { ok: false, ...answered, error: 'interrupted before the answer was complete', interrupted: true };
    if (error instanceof AnswerTooLargeError) return { ok: false, ...answered, error: error.message };
    return { ok: false, ...answered, error: describeFetchFailure(error, url, options.timeoutMs) };
  }
  const traceId = response.headers.get('x-trace-id') ?? undefined;
  if (response.ok && typeof body?.answer === 'string' && (typeof body.trace_id === 'string' || body.trace_id === null)) {
    return { ok: true, httpStatus: response.status, answer: toAnswer(body, body.answer, body.trace_id ?? undefined) };
  }
  const code = typeof body?.error?.code === 'string' ? body.error.code : undefined;
  const message = typeof body?.error?.message === 'string' ? body.error.message : undefined;
  // serve answers every refusal with its error JSON; anything else came from another server.
  const foreign = response.status >= 400 && code === undefined && message === undefined;
  return {
    ok: false,
    httpStatus: response.status,
    ...(code && { code }),
    error: isRedirect(response.status)
      ? describeServerRedirect(url, response)
      : foreign
        ? `HTTP ${response.status}, which is no answer of otel-mlflow serve (no error JSON)`
        : describeRefusal(response.status, code, message, streamed),
    ...(traceId && { traceId }),
    ...(foreign && { foreign: true as const }),
  };
}

function describeRefusal(status: number, code: string | undefined, message: string | undefined, streamed: boolean): string {
  if (status >= 400) return `HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  // A streamed answer has sent its 200 before the model fails, so the failure comes as an event.
  if (code || message) return [code, message].filter(Boolean).join(': ');
  if (streamed) return 'the answer stream ended before the answer was complete';
  return `answered ${status} without an answer: is it an otel-mlflow server?`;
}

function toAnswer(body: AnswerJson, answer: string, traceId: string | undefined): AgentAnswer {
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
