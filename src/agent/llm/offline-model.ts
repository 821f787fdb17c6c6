import { createHash } from 'node:crypto';
import { composeReply, messageText, type OfflineMessage, type OfflineReply, type OfflineRequest } from './offline-reply.ts';
import type { OfflineTool, OfflineToolChoice } from './offline-tool-calls.ts';

/** `.invalid` can never resolve (RFC 6761): were this URL ever fetched for real, it would fail, not leak. */
export const OFFLINE_BASE_URL = 'http://offline.otel-mlflow.invalid/v1';
/** 2025-01-01T00:00:00Z, fixed so that the same request always gets a byte-identical answer. */
const CREATED = 1_735_689_600;
const SYSTEM_FINGERPRINT = 'fp_otel_mlflow_offline';
/** Characters of tool-call arguments per streamed delta, about what OpenAI sends. */
const ARGUMENT_PIECE_CHARS = 8;

/**
 * A deterministic OpenAI-compatible chat model behind a `fetch`: hand it to the official client
 * (`new OpenAI({ baseURL: OFFLINE_BASE_URL, fetch: offlineFetch, ... })`). It answers
 * POST /chat/completions, plain or streamed, with tool calls, and never touches the network.
 */
export async function offlineFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = input instanceof Request ? input : undefined;
  const signal = init?.signal ?? request?.signal ?? undefined;
  signal?.throwIfAborted();
  const url = new URL(request ? request.url : String(input));
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
  if (method !== 'POST' || !/\/chat\/completions\/?$/.test(url.pathname)) {
    return errorResponse(404, `Unknown request URL: ${method} ${url.pathname}. The offline model only answers POST /v1/chat/completions.`, {
      code: 'unknown_url',
    });
  }
  const body = init?.body != null ? await new Response(init.body).text() : request ? await request.text() : '';
  const parsed = parseRequest(body);
  if ('error' in parsed) return errorResponse(400, parsed.error, { param: parsed.param });

  const { wire, offline } = parsed;
  const reply = limitReply(composeReply(offline), wire.maxTokens);
  // Streaming or not, the same conversation gets the same ids.
  const { stream: _stream, stream_options: _streamOptions, ...conversation } = wire.raw;
  const hash = createHash('sha256').update(JSON.stringify(conversation)).digest('hex');
  const completion: Completion = {
    id: `chatcmpl-${hash.slice(0, 29)}`,
    model: wire.model,
    reply,
    hash,
    usage: usage(offline, reply),
  };
  const headers = { 'x-request-id': `req_${hash.slice(0, 32)}` };
  if (!wire.stream) return Response.json(completionBody(completion), { headers });
  return new Response(sseStream(streamChunks(completion, wire.includeUsage), signal), {
    headers: { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
  });
}

interface WireOptions {
  raw: Record<string, unknown>;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
}

type Parsed = { wire: WireOptions; offline: OfflineRequest } | { error: string; param: string | null };

function parseRequest(text: string): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: 'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.', param: null };
  }
  if (!isObject(body)) return { error: 'The request body must be a JSON object.', param: null };
  if (typeof body.model !== 'string' || body.model === '') return { error: 'You must provide a model parameter.', param: 'model' };
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return { error: "Invalid 'messages': expected a non-empty array of messages.", param: 'messages' };
  }
  const badMessage = body.messages.findIndex((m) => !isObject(m) || typeof m.role !== 'string');
  if (badMessage >= 0)
    return { error: `Invalid 'messages[${badMessage}]': expected an object with a 'role'.`, param: `messages[${badMessage}]` };
  const tools = parseTools(body.tools);
  if (typeof tools === 'string') return { error: tools, param: 'tools' };
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  if (maxTokens !== undefined && !(typeof maxTokens === 'number' && Number.isInteger(maxTokens) && maxTokens > 0)) {
    return {
      error: 'max_tokens must be a positive integer.',
      param: body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens',
    };
  }
  const streamOptions = body.stream_options as { include_usage?: unknown } | null | undefined;
  return {
    wire: {
      raw: body,
      model: body.model,
      stream: body.stream === true,
      includeUsage: body.stream === true && streamOptions?.include_usage === true,
      maxTokens,
    },
    offline: {
      messages: body.messages as OfflineMessage[],
      tools,
      toolChoice: parseToolChoice(body.tool_choice),
      parallelToolCalls: body.parallel_tool_calls !== false,
    },
  };
}

/** Function tools as the model sees them, or the message for a malformed list. */
function parseTools(value: unknown): OfflineTool[] | string {
  if (value == null) return [];
  if (!Array.isArray(value)) return "Invalid 'tools': expected an array.";
  const tools: OfflineTool[] = [];
  for (const [i, tool] of value.entries()) {
    const fn = (tool as { type?: unknown; function?: { name?: unknown; description?: unknown; parameters?: unknown } } | null)?.function;
    if ((tool as { type?: unknown } | null)?.type !== 'function' || typeof fn?.name !== 'string') {
      return `Invalid 'tools[${i}]': expected {"type": "function", "function": {"name": ...}}.`;
    }
    tools.push({
      name: fn.name,
      ...(typeof fn.description === 'string' && { description: fn.description }),
      ...(isObject(fn.parameters) && { parameters: fn.parameters }),
    });
  }
  return tools;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseToolChoice(value: unknown): OfflineToolChoice {
  if (value === 'none' || value === 'required' || value === 'auto') return value;
  const name = (value as { function?: { name?: unknown } } | null)?.function?.name;
  return typeof name === 'string' ? { name } : 'auto';
}

/** Cuts a text reply at `max_tokens` with finish_reason 'length', as OpenAI does. */
function limitReply(reply: OfflineReply, maxTokens: number | undefined): FinishedReply {
  if (reply.kind !== 'text' || maxTokens === undefined) return { ...reply, truncated: false };
  const tokens = [...reply.text.matchAll(TOKEN)];
  if (tokens.length <= maxTokens) return { ...reply, truncated: false };
  const last = tokens[maxTokens - 1]!;
  return { kind: 'text', text: reply.text.slice(0, last.index + last[0].length), truncated: true };
}

type FinishedReply = OfflineReply & { truncated: boolean };

interface Completion {
  id: string;
  model: string;
  reply: FinishedReply;
  hash: string;
  usage: Usage;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

/** Words, numbers and single punctuation marks: a stand-in for a real tokeniser that is stable and cheap. */
const TOKEN = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;

function countTokens(text: string): number {
  return text.match(TOKEN)?.length ?? 0;
}

/** Per message a few tokens of framing, as OpenAI's chat format costs. */
const TOKENS_PER_MESSAGE = 3;

function usage(request: OfflineRequest, reply: FinishedReply): Usage {
  let prompt = TOKENS_PER_MESSAGE;
  for (const message of request.messages) {
    prompt += TOKENS_PER_MESSAGE + countTokens(message.role) + countTokens(messageText(message.content));
    if (Array.isArray(message.tool_calls)) prompt += countTokens(JSON.stringify(message.tool_calls));
  }
  if (request.tools.length > 0) prompt += countTokens(JSON.stringify(request.tools));
  const completion =
    reply.kind === 'text'
      ? countTokens(reply.text)
      : reply.calls.reduce((sum, call) => sum + countTokens(call.name) + countTokens(call.arguments), 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function finishReason(reply: FinishedReply): 'stop' | 'length' | 'tool_calls' {
  return reply.kind === 'tool_calls' ? 'tool_calls' : reply.truncated ? 'length' : 'stop';
}

function toolCallIds(completion: Completion): string[] {
  const calls = completion.reply.kind === 'tool_calls' ? completion.reply.calls : [];
  return calls.map((_, i) => `call_${createHash('sha256').update(`${completion.hash}:${i}`).digest('hex').slice(0, 24)}`);
}

function completionBody(completion: Completion) {
  const { reply } = completion;
  const ids = toolCallIds(completion);
  const message =
    reply.kind === 'text'
      ? { role: 'assistant', content: reply.text, refusal: null, annotations: [] }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          annotations: [],
          tool_calls: reply.calls.map((call, i) => ({
            id: ids[i],
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        };
  return {
    id: completion.id,
    object: 'chat.completion',
    created: CREATED,
    model: completion.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
    usage: completion.usage,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** The chunks OpenAI would stream for this completion: role, deltas, finish reason, then usage if asked. */
function streamChunks(completion: Completion, includeUsage: boolean): object[] {
  const { reply } = completion;
  const chunk = (delta: object, finish: string | null = null) => ({
    id: completion.id,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: completion.model,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage && { usage: null }),
  });
  const chunks: object[] = [];
  if (reply.kind === 'text') {
    chunks.push(chunk({ role: 'assistant', content: '', refusal: null }));
    for (const piece of reply.text.match(/\S+\s*|\s+/g) ?? []) chunks.push(chunk({ content: piece }));
  } else {
    const ids = toolCallIds(completion);
    reply.calls.forEach((call, index) => {
      const opening = { index, id: ids[index], type: 'function', function: { name: call.name, arguments: '' } };
      chunks.push(chunk(index === 0 ? { role: 'assistant', content: null, tool_calls: [opening] } : { tool_calls: [opening] }));
      for (const piece of call.arguments.match(new RegExp(`[^]{1,${ARGUMENT_PIECE_CHARS}}`, 'g')) ?? []) {
        chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    });
  }
  chunks.push(chunk({}, finishReason(reply)));
  if (includeUsage) chunks.push({ ...chunk({}), choices: [], usage: completion.usage });
  return chunks;
}

/** One server-sent event per read, so a consumer that stops reading (or aborts) stops the stream. */
function sseStream(chunks: object[], signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const events = [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n'];
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (signal?.aborted) {
        controller.error(signal.reason);
        return;
      }
      const event = events[next++];
      if (event === undefined) controller.close();
      else controller.enqueue(encoder.encode(event));
    },
  });
}

function errorResponse(status: number, message: string, options: { param?: string | null; code?: string }): Response {
  return Response.json(
    { error: { message, type: 'invalid_request_error', param: options.param ?? null, code: options.code ?? null } },
    { status },
  );
}
