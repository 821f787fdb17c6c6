import type { LlmSpanSettings } from '../call-span.ts';
import type { Tracer } from '@opentelemetry/api';
import type OpenAI from 'openai';
import type { APIPromise } from 'openai';
import { Stream } from 'openai/streaming';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { ChatSpan } from './chat-span.ts';
import { instrumentEmbeddings } from './instrument-embeddings.ts';
import { instrumentResponses } from './instrument-responses.ts';
import { traceApiCall } from '../observed-api-promise.ts';
import { observeStream } from '../observed-stream.ts';
import { ChatCompletionAccumulator } from './stream-accumulator.ts';
import { observeSentBodies } from '../sent-bodies.ts';
import { serverAttributes } from '../server-attributes.ts';

export interface OpenAIInstrumentationOptions {
  tracer: Tracer;
  /** gen_ai.provider.name: 'openai' | 'databricks' | 'otel-mlflow.offline'. */
  provider: string;
  /** Record messages, outputs and tool definitions (on by default in config); credentials never are. */
  captureContent: boolean;
  /**
   * Where message content goes: MLflow servers read mlflow.spanInputs/Outputs; Unity Catalog tables
   * and plain OTLP collectors read gen_ai.input.messages/gen_ai.output.messages. Content is recorded
   * ONCE, under the names the destination reads.
   */
  contentAttributes: 'mlflow' | 'gen_ai';
}

type Create = OpenAI['chat']['completions']['create'];
type RequestOptions = Parameters<Create>[1];
type CreateResult = APIPromise<ChatCompletion | Stream<ChatCompletionChunk>>;

const instrumented = new WeakSet<object>();

/**
 * Makes every `client.chat.completions.create` call — plain, streaming, with tools — a CHAT_MODEL
 * span (and every `responses.create` call too, and every `embeddings.create` call an EMBEDDING one), child of the active context, by wrapping this client instance (require hooks do nothing
 * under ESM). The method keeps its return type and behaviour: the same APIPromise, with
 * `withResponse()` / `asResponse()`, and the same Stream. Instrumenting a client twice does nothing.
 *
 * Streaming spans stay open until the stream is consumed; a consumer that stops early or aborts ends
 * the span with what arrived and an `otel_mlflow.stream.ended_early` event. They also carry
 * `gen_ai.response.time_to_first_chunk` (seconds), and usage: `stream_options.include_usage` is
 * requested unless the caller set it, and the usage-only chunk that adds is kept from a caller who
 * did not ask for it. A promise never awaited, or a stream never iterated, leaves its span unended.
 */
export function instrumentOpenAI<T extends OpenAI>(client: T, options: OpenAIInstrumentationOptions): T {
  const completions = client.chat.completions;
  if (instrumented.has(completions)) return client;
  instrumented.add(completions);
  const create = completions.create as (body: ChatCompletionCreateParams, requestOptions?: RequestOptions) => CreateResult;
  const settings: LlmSpanSettings = { ...options, server: serverAttributes(client.baseURL) };

  function tracedCreate(this: unknown, body: ChatCompletionCreateParams, requestOptions?: RequestOptions): CreateResult {
    const chat = new ChatSpan(body, settings);
    // A sampled-out call goes as the caller made it: nothing would read the usage.
    const addsUsage = chat.span.isRecording() && body.stream === true && body.stream_options?.include_usage == null;
    const request = addsUsage ? { ...body, stream_options: { ...body.stream_options, include_usage: true } } : body;
    chat.sent(request);
    return traceApiCall(
      chat,
      (): CreateResult => create.call(this, request, requestOptions),
      (data) => {
        if (data instanceof Stream) return traceStream(data, chat, client, addsUsage);
        chat.succeeded(data);
        return data;
      },
    );
  }
  completions.create = tracedCreate as Create;
  observeSentBodies(client, CHAT_COMPLETIONS);
  instrumentResponses(client, settings);
  instrumentEmbeddings(client, settings);
  return client;
}

/** The chat completions path, on OpenAI, Azure (`/openai/deployments/<name>/chat/completions?api-version=…`) and compatible servers. */
const CHAT_COMPLETIONS = /\/chat\/completions(?:\?|$)/;

function traceStream(
  stream: Stream<ChatCompletionChunk>,
  chat: ChatSpan,
  client: OpenAI,
  hideUsageChunk: boolean,
): Stream<ChatCompletionChunk> {
  const accumulator = new ChatCompletionAccumulator();
  let chunks = 0;
  return observeStream(stream, client, {
    item: (chunk) => {
      if (chunks++ === 0) chat.firstChunk();
      accumulator.add(chunk);
      return !(hideUsageChunk && chunk.choices?.length === 0 && chunk.usage);
    },
    completed: () => chat.succeeded(accumulator.result()),
    endedEarly: (reason) => chat.endedEarly(reason, accumulator.result()),
    failed: (error) => chat.failed(error),
  });
}
