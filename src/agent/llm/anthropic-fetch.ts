import type Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  Message,
  MessageCreateParamsBase,
  MessageCreateParamsNonStreaming,
  MessageParam,
  RawMessageStreamEvent,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import type {
  ChatCompletionCreateParams,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { AnthropicInstrumentationOptions } from '../../tracing/anthropic/instrument-anthropic.ts';

export interface AnthropicFetchOptions {
  apiKey: string | undefined;
  baseURL: string;
  timeout: number;
  instrumentation: AnthropicInstrumentationOptions;
}

/** Anthropic requires max_tokens; what a request that does not say gets. */
const DEFAULT_MAX_TOKENS = 1024;

const FINISH_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/**
 * The agent speaks OpenAI's chat completions API whatever the provider; this `fetch`, handed to the
 * openai client, answers its POST /chat/completions with Anthropic's Messages API through the
 * official, instrumented Anthropic client, so each call is one CHAT_MODEL span in Anthropic's shape.
 * Plain and streamed answers and tool calls are translated both ways; Anthropic's errors keep their
 * status (and retry-after), and a connection failure its cause, so the agent reports them as for
 * OpenAI. Sampling parameters the Messages API no longer takes (`temperature`, `top_p`) are left out.
 * The SDK loads on the first call: `--help` and the other providers never pay for it.
 */
export function anthropicFetch(options: AnthropicFetchOptions): typeof fetch {
  let client: Promise<Anthropic> | undefined;
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method !== 'POST' || !/\/chat\/completions\/?$/.test(url.pathname)) {
      return errorResponse(404, `the anthropic provider only answers chat completions, not ${method} ${url.pathname}`);
    }
    const request = JSON.parse(await new Response(init?.body ?? null).text()) as ChatCompletionCreateParams;
    client ??= connect(options);
    const anthropic = await client;
    const { APIError } = await import('@anthropic-ai/sdk');
    const params = toMessageParams(request);
    const signal = init?.signal ?? undefined;
    try {
      if (!request.stream) {
        const message = await anthropic.messages.create(params as MessageCreateParamsNonStreaming, { ...(signal && { signal }) });
        return Response.json(toCompletion(message));
      }
      const stream = await anthropic.messages.create({ ...params, stream: true }, { ...(signal && { signal }) });
      return new Response(toChunkStream(stream, request.stream_options?.include_usage === true, APIError), {
        headers: { 'content-type': 'text/event-stream; charset=utf-8' },
      });
    } catch (error) {
      if (error instanceof APIError && typeof error.status === 'number')
        return errorResponse(error.status, apiErrorMessage(error), error.headers);
      // The openai client turns a thrown error into its connection error, with this as the cause it reports.
      throw error instanceof APIError && error.cause ? error.cause : error;
    }
  };
}

async function connect(options: AnthropicFetchOptions): Promise<Anthropic> {
  const [{ default: AnthropicClient }, { instrumentAnthropic }] = await Promise.all([
    import('@anthropic-ai/sdk'),
    import('../../tracing/anthropic/instrument-anthropic.ts'),
  ]);
  // No retries here: the openai client in front retries as it does for every provider.
  const client = new AnthropicClient({ apiKey: options.apiKey ?? null, baseURL: options.baseURL, timeout: options.timeout, maxRetries: 0 });
  return instrumentAnthropic(client, options.instrumentation);
}

/** Anthropic's own message from its error body (`{type: 'error', error: {type, message}}`), else the SDK's. */
function apiErrorMessage(error: { error?: unknown; message: string }): string {
  const body = error.error as { error?: { message?: unknown } } | undefined;
  return typeof body?.error?.message === 'string' ? body.error.message : error.message;
}

function toMessageParams(request: ChatCompletionCreateParams): MessageCreateParamsBase {
  const system = request.messages.flatMap((message) =>
    message.role === 'system' || message.role === 'developer' ? [textOf(message.content)] : [],
  );
  const tools = (request.tools ?? []).flatMap((tool) => (tool.type === 'function' ? [toTool(tool)] : []));
  const toolChoice = toToolChoice(request.tool_choice);
  const stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  return {
    model: request.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages: toMessages(request.messages),
    ...(system.length > 0 && { system: system.join('\n\n') }),
    ...(tools.length > 0 && { tools }),
    ...(tools.length > 0 && toolChoice && { tool_choice: toolChoice }),
    ...(stop?.length && { stop_sequences: stop }),
  };
}

/** OpenAI's conversation as Anthropic's: tool results are user turns, and consecutive ones share one turn. */
function toMessages(messages: readonly ChatCompletionMessageParam[]): MessageParam[] {
  const out: MessageParam[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        continue;
      case 'user':
        out.push({ role: 'user', content: textOf(message.content) });
        continue;
      case 'assistant': {
        const content: ContentBlockParam[] = [];
        const text = message.content ? textOf(message.content) : '';
        if (text) content.push({ type: 'text', text });
        for (const call of message.tool_calls ?? []) {
          if (call.type === 'function')
            content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) });
        }
        out.push({ role: 'assistant', content: content.length > 0 ? content : '' });
        continue;
      }
      case 'tool': {
        const result: ContentBlockParam = { type: 'tool_result', tool_use_id: message.tool_call_id, content: textOf(message.content) };
        const last = out.at(-1);
        if (last?.role === 'user' && Array.isArray(last.content) && last.content.every((block) => block.type === 'tool_result')) {
          last.content.push(result);
        } else {
          out.push({ role: 'user', content: [result] });
        }
        continue;
      }
      default:
        continue;
    }
  }
  return out;
}

function textOf(content: string | readonly { type: string; text?: string }[] | null | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('');
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text || '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function toTool(tool: Extract<ChatCompletionTool, { type: 'function' }>): Tool {
  const { name, description, parameters } = tool.function;
  return { name, ...(description && { description }), input_schema: (parameters ?? { type: 'object' }) as Tool['input_schema'] };
}

function toToolChoice(choice: ChatCompletionToolChoiceOption | undefined): MessageCreateParamsBase['tool_choice'] | undefined {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  if (choice && typeof choice === 'object' && choice.type === 'function') return { type: 'tool', name: choice.function.name };
  return undefined;
}

function toCompletion(message: Message): object {
  const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
  const toolCalls = message.content.flatMap((block) =>
    block.type === 'tool_use'
      ? [{ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } }]
      : [],
  );
  return {
    id: message.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: message.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text || null, refusal: null, ...(toolCalls.length > 0 && { tool_calls: toolCalls }) },
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
    usage: toUsage(message.usage),
  };
}

function finishReason(stopReason: string | null | undefined): string {
  return (stopReason && FINISH_REASONS[stopReason]) ?? 'stop';
}

function toUsage(usage: Partial<Message['usage']>): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = (usage.input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0);
  const completion = usage.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/**
 * Anthropic's events as OpenAI's chunks: text deltas as content, each tool_use block as a tool call
 * (its input JSON as argument pieces), message_delta's stop reason as the finish, and the usage chunk
 * when asked for. A consumer that cancels the body ends the Anthropic stream, and with it its span.
 */
function toChunkStream(
  stream: AsyncIterable<RawMessageStreamEvent>,
  includeUsage: boolean,
  APIError: typeof import('@anthropic-ai/sdk').APIError,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const events = stream[Symbol.asyncIterator]();
  let id = '';
  let model = '';
  const usage: Partial<Message['usage']> = {};
  /** Anthropic block index → OpenAI tool-call index. */
  const toolIndex = new Map<number, number>();
  const chunk = (delta: object, finish: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage && { usage: null }),
  });
  const translate = (event: RawMessageStreamEvent): object[] => {
    switch (event.type) {
      case 'message_start':
        id = event.message.id;
        model = event.message.model;
        Object.assign(usage, event.message.usage);
        return [chunk({ role: 'assistant', content: '' })];
      case 'content_block_start':
        if (event.content_block.type !== 'tool_use') return [];
        toolIndex.set(event.index, toolIndex.size);
        return [
          chunk({
            tool_calls: [
              {
                index: toolIndex.get(event.index),
                id: event.content_block.id,
                type: 'function',
                function: { name: event.content_block.name, arguments: '' },
              },
            ],
          }),
        ];
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') return [chunk({ content: event.delta.text })];
        if (event.delta.type === 'input_json_delta') {
          return [chunk({ tool_calls: [{ index: toolIndex.get(event.index), function: { arguments: event.delta.partial_json } }] })];
        }
        return [];
      case 'message_delta':
        for (const [key, value] of Object.entries(event.usage)) if (value != null) Object.assign(usage, { [key]: value });
        return [chunk({}, finishReason(event.delta.stop_reason))];
      default:
        return [];
    }
  };
  return new ReadableStream({
    async pull(controller) {
      try {
        const next = await events.next();
        if (next.done) {
          if (includeUsage)
            controller.enqueue(encoder.encode(`data: ${JSON.stringify({ ...chunk({}), choices: [], usage: toUsage(usage) })}\n\n`));
          controller.enqueue(encoder.encode('data: [DONE]\n\n'));
          controller.close();
          return;
        }
        for (const out of translate(next.value)) controller.enqueue(encoder.encode(`data: ${JSON.stringify(out)}\n\n`));
      } catch (error) {
        // A failure mid-stream reaches the openai client as OpenAI reports one: an error event.
        if (!(error instanceof APIError)) throw error;
        controller.enqueue(
          encoder.encode(`data: ${JSON.stringify({ error: { message: apiErrorMessage(error), type: 'api_error', code: null } })}\n\n`),
        );
        controller.close();
      }
    },
    async cancel() {
      await events.return?.();
    },
  });
}

function errorResponse(status: number, message: string, headers?: Headers): Response {
  const retryAfter = headers?.get('retry-after');
  return Response.json(
    { error: { message, type: 'api_error', param: null, code: null } },
    { status, ...(retryAfter && { headers: { 'retry-after': retryAfter } }) },
  );
}
