import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { listen } from './listen.ts';
import { embeddingsOf, responseOf, sendResponsesStream } from './fake-openai-responses.ts';

/** One POST /v1/chat/completions, /v1/responses or /v1/embeddings as the fake received it. */
export interface FakeOpenAIRequest {
  path: string;
  /** The parsed JSON body (for the other endpoints, their own fields rather than `messages`). */
  body: FakeRequestBody;
  headers: IncomingHttpHeaders;
}

export interface FakeRequestBody {
  model: string;
  messages: unknown[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  [param: string]: unknown;
}

/** What the fake answers to one request; every field has a default. */
export interface FakeReply {
  /** Default 200. 4xx/5xx answer OpenAI's error body; 429 also sends Retry-After. */
  status?: number;
  /** The error body's message instead of the default (a compatible server's 401 that echoes the key it got). */
  errorMessage?: string;
  /** The assistant's text. Default 'Hello from the fake model.' unless tool calls are given. */
  content?: string;
  toolCalls?: { id: string; name: string; arguments: string }[];
  /** Default 11 prompt / 7 completion tokens. */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** The model named in the answer; default the requested one (OpenAI answers with a dated snapshot). */
  model?: string;
  headers?: Record<string, string>;
  /** Sent as the body instead of the answer (JSON, or SSE text when streaming): a misbehaving compatible server. */
  rawBody?: string;
  /**
   * Streaming only: after `afterChunks` chunks, 'stall' sends nothing more until the client goes away,
   * and 'error' sends an error event and ends the stream (as OpenAI does when a stream fails mid-way).
   */
  interrupt?: { afterChunks: number; with: 'stall' | 'error' };
  /** Answered once this settles: a call the test holds in flight until it lets it go. */
  answerAfter?: Promise<unknown>;
}

export interface FakeOpenAI {
  /** http://127.0.0.1:<port>; the API is under /v1. */
  url: string;
  requests: FakeOpenAIRequest[];
  close(): Promise<void>;
}

export interface FakeOpenAIOptions {
  script?: (request: FakeOpenAIRequest) => FakeReply;
}

const DEFAULT_CONTENT = 'Hello from the fake model.';
const ENDPOINTS = ['/v1/chat/completions', '/v1/responses', '/v1/embeddings'];
const DEFAULT_USAGE = { prompt_tokens: 11, completion_tokens: 7 };
/** OpenAI streams tool-call arguments a few characters at a time. */
const ARGUMENT_PIECE = 6;
const CREATED = 1_767_225_600;

const ERROR_BODIES: Record<number, { message: string; type: string; code: string | null }> = {
  429: {
    message: 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.',
    type: 'requests',
    code: 'rate_limit_exceeded',
  },
  500: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', code: null },
};

/** An OpenAI-compatible server: chat completions and Responses (plain JSON, SSE streaming, tool calls), embeddings, and scripted failures. */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const requests: FakeOpenAIRequest[] = [];
  let answered = 0;
  const server = await listen(async (req, res) => {
    const text = await readBody(req);
    // What init asks to test a key: any key the fake is given is a good one.
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}');
      return;
    }
    if (req.method !== 'POST' || !ENDPOINTS.includes(req.url ?? '')) {
      return sendError(res, 404, { message: `Invalid URL (${req.method} ${req.url})`, type: 'invalid_request_error', code: null });
    }
    const request: FakeOpenAIRequest = { path: req.url!, body: JSON.parse(text) as FakeRequestBody, headers: req.headers };
    requests.push(request);
    const reply = options.script?.(request) ?? {};
    await reply.answerAfter;
    const status = reply.status ?? 200;
    if (status >= 400) {
      const retryAfter: Record<string, string> = status === 429 ? { 'retry-after': '1' } : {};
      const body = ERROR_BODIES[status] ?? { message: `status ${status}`, type: 'api_error', code: null };
      return sendError(res, status, reply.errorMessage === undefined ? body : { ...body, message: reply.errorMessage }, {
        ...retryAfter,
        ...reply.headers,
      });
    }
    answered += 1;
    if (request.path === '/v1/embeddings') {
      return sendJson(res, embeddingsOf(request.body as unknown as Parameters<typeof embeddingsOf>[0], reply), {
        'x-request-id': `req_fake_${answered}`,
      });
    }
    if (request.path === '/v1/responses') {
      const response = responseOf(`resp_fake_${answered}`, request.body, reply);
      const headers = { 'x-request-id': `req_fake_${answered}`, ...reply.headers };
      return request.body.stream ? sendResponsesStream(res, response, reply, headers) : sendJson(res, response, headers);
    }
    const answer = new Answer(`chatcmpl-fake-${answered}`, reply.model ?? request.body.model, reply);
    const headers = { 'x-request-id': `req_fake_${answered}`, ...reply.headers };
    if (request.body.stream && reply.rawBody === undefined) {
      return sendStream(res, answer, request.body.stream_options?.include_usage === true, reply, headers);
    }
    const body = reply.rawBody ?? JSON.stringify(answer.completion());
    const contentType = request.body.stream ? 'text/event-stream; charset=utf-8' : 'application/json';
    res.writeHead(200, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  });
  return { url: server.url, requests, close: () => server.close() };
}

class Answer {
  readonly id: string;
  readonly model: string;
  readonly content: string | null;
  readonly toolCalls: { id: string; name: string; arguments: string }[];
  readonly usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };

  constructor(id: string, model: string, reply: FakeReply) {
    this.id = id;
    this.model = model;
    this.toolCalls = reply.toolCalls ?? [];
    this.content = reply.content ?? (this.toolCalls.length > 0 ? null : DEFAULT_CONTENT);
    const usage = reply.usage ?? DEFAULT_USAGE;
    this.usage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
  }

  get finishReason(): string {
    return this.toolCalls.length > 0 ? 'tool_calls' : 'stop';
  }

  completion(): unknown {
    const toolCalls = this.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    return {
      id: this.id,
      object: 'chat.completion',
      created: CREATED,
      model: this.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: this.content,
            refusal: null,
            annotations: [],
            ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
          },
          logprobs: null,
          finish_reason: this.finishReason,
        },
      ],
      usage: this.usage,
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
    };
  }

  /** The chunks OpenAI would stream for this answer, in order, before the usage chunk. */
  deltas(): { delta: Record<string, unknown>; finish_reason: string | null }[] {
    const deltas: { delta: Record<string, unknown>; finish_reason: string | null }[] = [
      { delta: { role: 'assistant', content: this.content === null ? null : '', refusal: null }, finish_reason: null },
    ];
    for (const piece of this.content?.split(/(?<= )/) ?? []) deltas.push({ delta: { content: piece }, finish_reason: null });
    this.toolCalls.forEach((call, index) => {
      deltas.push({
        delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] },
        finish_reason: null,
      });
      for (let at = 0; at < call.arguments.length; at += ARGUMENT_PIECE) {
        deltas.push({
          delta: { tool_calls: [{ index, function: { arguments: call.arguments.slice(at, at + ARGUMENT_PIECE) } }] },
          finish_reason: null,
        });
      }
    });
    deltas.push({ delta: {}, finish_reason: this.finishReason });
    return deltas;
  }
}

async function sendStream(
  res: ServerResponse,
  answer: Answer,
  includeUsage: boolean,
  reply: FakeReply,
  headers: Record<string, string>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  const chunk = (choices: unknown[], usage?: unknown) => ({
    id: answer.id,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: answer.model,
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
    choices,
    // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
    ...(includeUsage && { usage: usage ?? null }),
  });
  let sent = 0;
  for (const { delta, finish_reason } of answer.deltas()) {
    if (reply.interrupt && sent === reply.interrupt.afterChunks) {
      if (reply.interrupt.with === 'error') {
        res.end(
          `data: ${JSON.stringify({ error: { message: 'The server had an error while streaming.', type: 'server_error', code: null } })}\n\n`,
        );
        return;
      }
      await new Promise((resolve) => res.once('close', resolve));
      return;
    }
    res.write(`data: ${JSON.stringify(chunk([{ index: 0, delta, logprobs: null, finish_reason }]))}\n\n`);
    sent += 1;
  }
  if (includeUsage) res.write(`data: ${JSON.stringify(chunk([], answer.usage))}\n\n`);
  res.end('data: [DONE]\n\n');
}

function sendError(
  res: ServerResponse,
  status: number,
  error: { message: string; type: string; code: string | null },
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: { ...error, param: null } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown, headers: Record<string, string>): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
