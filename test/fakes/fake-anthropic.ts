import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { listen } from './listen.ts';

/** One POST /v1/messages as the fake received it. */
export interface FakeAnthropicRequest {
  /** The parsed JSON body. */
  body: FakeMessagesBody;
  headers: IncomingHttpHeaders;
}

export interface FakeMessagesBody {
  model: string;
  max_tokens: number;
  messages: unknown[];
  system?: unknown;
  tools?: unknown[];
  stream?: boolean;
  [param: string]: unknown;
}

export interface FakeToolUse {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface FakeAnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** What the fake answers to one request; every field has a default. */
export interface FakeAnthropicReply {
  /** Default 200. 4xx/5xx answer Anthropic's error body `{type: 'error', error: {type, message}}`; 429 also sends retry-after. */
  status?: number;
  /** The error body's message instead of the default (a proxy's 401 that echoes the key it got). */
  errorMessage?: string;
  /** The assistant's text. Default 'Hello from the fake Claude.' unless tool uses are given. */
  content?: string;
  toolUses?: FakeToolUse[];
  /** Default 12 input / 8 output tokens, no cache. */
  usage?: FakeAnthropicUsage;
  /** The model named in the answer; default the requested one. */
  model?: string;
  headers?: Record<string, string>;
  /**
   * Streaming only: after `afterEvents` events, 'stall' sends nothing more until the client goes away,
   * and 'error' sends an `error` event and ends the stream (as Anthropic does when it is overloaded mid-way).
   */
  interrupt?: { afterEvents: number; with: 'stall' | 'error' };
}

export interface FakeAnthropic {
  /** http://127.0.0.1:<port>; the API is under /v1, as the SDK's baseURL expects without it. */
  url: string;
  requests: FakeAnthropicRequest[];
  close(): Promise<void>;
}

export interface FakeAnthropicOptions {
  script?: (request: FakeAnthropicRequest) => FakeAnthropicReply;
  /** The one key `GET /v1/models` accepts; by default any. Messages take any key. */
  apiKey?: string;
}

const DEFAULT_CONTENT = 'Hello from the fake Claude.';
const DEFAULT_USAGE: FakeAnthropicUsage = { input_tokens: 12, output_tokens: 8 };
/** Anthropic streams tool input a few characters at a time. */
const INPUT_PIECE = 7;

/** Anthropic's error type per status (docs.anthropic.com/en/api/errors). */
const ERROR_TYPES: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'messages: at least one message is required' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'The requested resource could not be found.' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit.' },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

/** An Anthropic Messages API server: plain JSON, SSE streaming with the real event sequence, tool use and scripted failures. */
export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const requests: FakeAnthropicRequest[] = [];
  let answered = 0;
  const server = await listen(async (req, res) => {
    const text = await readBody(req);
    if (req.method === 'GET' && req.url?.split('?', 1)[0] === '/v1/models') return listModels(req, res, options.apiKey);
    if (req.method !== 'POST' || req.url !== '/v1/messages') {
      return sendError(res, 404, 'not_found_error', `${req.method} ${req.url} not found`, 'req_fake_404');
    }
    const request: FakeAnthropicRequest = { body: JSON.parse(text) as FakeMessagesBody, headers: req.headers };
    requests.push(request);
    answered += 1;
    const requestId = `req_fake_${answered}`;
    const reply = options.script?.(request) ?? {};
    const status = reply.status ?? 200;
    if (status >= 400) {
      const known = ERROR_TYPES[status] ?? { type: 'api_error', message: `status ${status}` };
      return sendError(res, status, known.type, reply.errorMessage ?? known.message, requestId, {
        ...(status === 429 && { 'retry-after': '1' }),
        ...reply.headers,
      });
    }
    const message = messageOf(`msg_fake_${answered}`, reply.model ?? request.body.model, reply);
    const headers = { 'request-id': requestId, ...reply.headers };
    if (request.body.stream) return sendStream(res, message, reply, headers);
    const body = JSON.stringify(message);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  });
  return { url: server.url, requests, close: () => server.close() };
}

interface FakeMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ({ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> })[];
  stop_reason: string;
  stop_sequence: null;
  usage: Required<FakeAnthropicUsage> & { service_tier: string };
}

function messageOf(id: string, model: string, reply: FakeAnthropicReply): FakeMessage {
  const toolUses = reply.toolUses ?? [];
  const text = reply.content ?? (toolUses.length > 0 ? undefined : DEFAULT_CONTENT);
  const usage = reply.usage ?? DEFAULT_USAGE;
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [
      ...(text === undefined ? [] : [{ type: 'text' as const, text }]),
      ...toolUses.map((use) => ({ type: 'tool_use' as const, ...use })),
    ],
    stop_reason: toolUses.length > 0 ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      service_tier: 'standard',
    },
  };
}

/** The events Anthropic streams for `message`, in order, with a ping after the first block starts. */
function eventsOf(message: FakeMessage): { event: string; data: unknown }[] {
  const events: { event: string; data: unknown }[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        // The start carries the input usage and one output token; the final output count comes in message_delta.
        message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } },
      },
    },
  ];
  message.content.forEach((block, index) => {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: start } });
    if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
    if (block.type === 'text') {
      for (const piece of block.text.split(/(?<= )/)) {
        events.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } },
        });
      }
    } else {
      const json = JSON.stringify(block.input);
      for (let at = 0; at < json.length; at += INPUT_PIECE) {
        events.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json.slice(at, at + INPUT_PIECE) } },
        });
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({
    event: 'message_delta',
    data: {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    },
  });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}

async function sendStream(
  res: ServerResponse,
  message: FakeMessage,
  reply: FakeAnthropicReply,
  headers: Record<string, string>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  let sent = 0;
  for (const { event, data } of eventsOf(message)) {
    if (reply.interrupt && sent === reply.interrupt.afterEvents) {
      if (reply.interrupt.with === 'error') {
        res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`);
        return;
      }
      await new Promise((resolve) => res.once('close', resolve));
      return;
    }
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    sent += 1;
  }
  res.end();
}

function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'request-id': requestId,
    ...headers,
  });
  res.end(body);
}

/**
 * What init asks to test a key, answered as Anthropic does: the newest models first, paged; 401 for a
 * missing or unknown key, 400 without the API version header the API requires of every request.
 */
function listModels(req: IncomingMessage, res: ServerResponse, apiKey: string | undefined): void {
  const key = req.headers['x-api-key'];
  if (typeof key !== 'string' || key === '' || (apiKey !== undefined && key !== apiKey)) {
    sendError(res, 401, 'authentication_error', 'invalid x-api-key', 'req_fake_models');
    return;
  }
  if (req.headers['anthropic-version'] === undefined) {
    sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required', 'req_fake_models');
    return;
  }
  const models = [
    { type: 'model', id: 'claude-sonnet-5-5', display_name: 'Claude Sonnet 5.5', created_at: '2026-11-01T00:00:00Z' },
    { type: 'model', id: 'claude-haiku-5-5', display_name: 'Claude Haiku 5.5', created_at: '2026-10-15T00:00:00Z' },
  ];
  const limit = Number(new URL(req.url ?? '/', 'http://fake').searchParams.get('limit') ?? 20);
  const data = models.slice(0, limit);
  const body = JSON.stringify({
    data,
    has_more: data.length < models.length,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  });
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake_models' }).end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
