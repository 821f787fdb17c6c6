import type { ServerResponse } from 'node:http';

/** What the fake's Responses and embeddings endpoints read of a FakeReply. */
export interface ResponsesReply {
  content?: string;
  toolCalls?: { id: string; name: string; arguments: string }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
  model?: string;
  interrupt?: { afterChunks: number; with: 'stall' | 'error' };
}

const DEFAULT_CONTENT = 'Hello from the fake model.';
const DEFAULT_USAGE = { prompt_tokens: 11, completion_tokens: 7 };
const CREATED = 1_767_225_600;
/** Dimensions of the fake's embeddings: small, the numbers are not what is tested. */
export const FAKE_EMBEDDING_DIMENSIONS = 8;

interface ResponseBody {
  model: string;
  instructions?: unknown;
  tools?: unknown[];
  [param: string]: unknown;
}

/** The Response object OpenAI's POST /v1/responses answers with. */
export function responseOf(id: string, body: ResponseBody, reply: ResponsesReply): Record<string, unknown> & { output: unknown[] } {
  const toolCalls = reply.toolCalls ?? [];
  const text = reply.content ?? (toolCalls.length > 0 ? undefined : DEFAULT_CONTENT);
  const usage = reply.usage ?? DEFAULT_USAGE;
  return {
    id,
    object: 'response',
    created_at: CREATED,
    status: 'completed',
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    model: reply.model ?? body.model,
    output: [
      ...(text === undefined
        ? []
        : [
            {
              type: 'message',
              id: `msg_${id}`,
              status: 'completed',
              role: 'assistant',
              content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
            },
          ]),
      ...toolCalls.map((call) => ({
        type: 'function_call',
        id: `fc_${call.id}`,
        call_id: call.id,
        name: call.name,
        arguments: call.arguments,
        status: 'completed',
      })),
    ],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: body.tools ?? [],
    usage: {
      input_tokens: usage.prompt_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: usage.completion_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.prompt_tokens + usage.completion_tokens,
    },
  };
}

/** The events OpenAI streams for `response`: created, each item added/delta/done, completed. */
function eventsOf(response: ReturnType<typeof responseOf>): Record<string, unknown>[] {
  const opening = { ...response, status: 'in_progress', output: [], usage: null };
  const events: Record<string, unknown>[] = [
    { type: 'response.created', response: opening },
    { type: 'response.in_progress', response: opening },
  ];
  (response.output as Record<string, unknown>[]).forEach((item, output_index) => {
    if (item.type === 'message') {
      const [part] = item.content as { text: string }[];
      events.push({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', content: [] } });
      events.push({
        type: 'response.content_part.added',
        item_id: item.id,
        output_index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
      for (const delta of part!.text.split(/(?<= )/)) {
        events.push({ type: 'response.output_text.delta', item_id: item.id, output_index, content_index: 0, delta, logprobs: [] });
      }
      events.push({ type: 'response.output_text.done', item_id: item.id, output_index, content_index: 0, text: part!.text, logprobs: [] });
      events.push({ type: 'response.content_part.done', item_id: item.id, output_index, content_index: 0, part });
    } else {
      const args = item.arguments as string;
      events.push({ type: 'response.output_item.added', output_index, item: { ...item, arguments: '', status: 'in_progress' } });
      for (let at = 0; at < args.length; at += 6) {
        events.push({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index, delta: args.slice(at, at + 6) });
      }
      events.push({ type: 'response.function_call_arguments.done', item_id: item.id, output_index, arguments: args });
    }
    events.push({ type: 'response.output_item.done', output_index, item });
  });
  events.push({ type: 'response.completed', response });
  return events.map((event, sequence_number) => ({ ...event, sequence_number }));
}

export async function sendResponsesStream(
  res: ServerResponse,
  response: ReturnType<typeof responseOf>,
  reply: ResponsesReply,
  headers: Record<string, string>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  let sent = 0;
  for (const event of eventsOf(response)) {
    if (reply.interrupt && sent === reply.interrupt.afterChunks) {
      if (reply.interrupt.with === 'error') {
        const error = {
          type: 'error',
          code: 'server_error',
          message: 'The server had an error while streaming.',
          param: null,
          sequence_number: sent,
        };
        res.end(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
        return;
      }
      await new Promise((resolve) => res.once('close', resolve));
      return;
    }
    res.write(`event: ${event.type as string}\ndata: ${JSON.stringify(event)}\n\n`);
    sent += 1;
  }
  res.end();
}

/** POST /v1/embeddings: one vector per input, as floats or (the SDK's default request) base64 of float32. */
export function embeddingsOf(body: { model: string; input: unknown; encoding_format?: string }, reply: ResponsesReply): unknown {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const usage = reply.usage ?? DEFAULT_USAGE;
  return {
    object: 'list',
    model: reply.model ?? body.model,
    data: inputs.map((_input, index) => {
      const vector = Array.from({ length: FAKE_EMBEDDING_DIMENSIONS }, (_, i) => (index + 1) / (i + 2));
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    }),
    usage: { prompt_tokens: usage.prompt_tokens, total_tokens: usage.prompt_tokens },
  };
}
