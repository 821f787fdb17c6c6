import type { LlmSpanSettings } from '../call-span.ts';
import type Anthropic from '@anthropic-ai/sdk';
import type { APIPromise } from '@anthropic-ai/sdk';
import { Stream } from '@anthropic-ai/sdk/streaming';
import type { Message, MessageCreateParams, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { OpenAIInstrumentationOptions } from '../openai/instrument-openai.ts';
import { MessageAccumulator } from './message-accumulator.ts';
import { MessageSpan } from './message-span.ts';
import { traceApiCall, type SdkApiPromise } from '../observed-api-promise.ts';
import { observeAccumulatedStream } from '../observed-stream.ts';
import { observeSentBodies } from '../sent-bodies.ts';
import { serverAttributes } from '../server-attributes.ts';

/** The same options as instrumentOpenAI's; `provider` is `anthropic` for Anthropic's API. */
export type AnthropicInstrumentationOptions = OpenAIInstrumentationOptions;

type RequestOptions = Parameters<Anthropic['messages']['create']>[1];
type ClientOptions = Parameters<Anthropic['withOptions']>[0];
type CreateResult = APIPromise<Message | Stream<RawMessageStreamEvent>>;

const instrumented = new WeakSet<object>();

/** The Messages API's path, which `beta.messages` sends to as well (`?beta=true`); not count_tokens or batches. */
const MESSAGES = /\/v1\/messages(?:\?|$)/;

/** A resource whose `create` sends a message: `client.messages`, `client.beta.messages`. */
interface MessagesResource {
  create(body: MessageCreateParams, requestOptions?: RequestOptions): CreateResult;
}

/**
 * Makes every `client.messages.create` call — plain, `stream: true`, with tools — and every
 * `client.messages.stream()` (which calls create) a CHAT_MODEL span, child of the active context,
 * by wrapping this client instance; `client.beta.messages` the same (create, stream, parse), and
 * every client `client.withOptions()` derives from it. The methods keep their return types and
 * behaviour: the same APIPromise with `withResponse()` / `asResponse()`, the same Stream, the same
 * MessageStream. Instrumenting a client twice does nothing.
 *
 * The client's own OpenTelemetry spans (the SDK emits `anthropic.messages.create` spans once a tracer
 * provider is registered) are switched off for this client: under this span they would carry the
 * same token usage again, and MLflow would count it twice in the trace's total.
 *
 * Streaming spans stay open until the stream is consumed; a consumer that stops early or aborts ends
 * the span with what arrived and an `otel_mlflow.stream.ended_early` event. They also carry
 * `gen_ai.response.time_to_first_chunk` (seconds to the first event).
 */
export function instrumentAnthropic<T extends Anthropic>(client: T, options: AnthropicInstrumentationOptions): T {
  if (instrumented.has(client.messages)) return client;
  instrumented.add(client.messages);
  (client as { _tracer?: unknown })._tracer = undefined;
  const settings: LlmSpanSettings = { ...options, server: serverAttributes(client.baseURL) };
  traceMessages(client, client.messages as unknown as MessagesResource, settings);
  observeSentBodies(client, MESSAGES);
  // Clients of other platforms (Bedrock, Vertex) may have no beta resource.
  const beta = (client as { beta?: { messages?: unknown } }).beta?.messages;
  if (beta) traceMessages(client, beta as MessagesResource, settings);
  // A derived client has resources of its own, and a tracer of its own the SDK would emit spans with.
  const derive = client.withOptions as ((this: Anthropic, clientOptions: ClientOptions) => Anthropic) | undefined;
  // Before 0.50 the SDK derives no clients.
  if (typeof derive !== 'function') return client;
  (client as Anthropic).withOptions = function (this: Anthropic, clientOptions: ClientOptions) {
    return instrumentAnthropic(derive.call(this, clientOptions), options);
  };
  return client;
}

function traceMessages(client: Anthropic, messages: MessagesResource, settings: LlmSpanSettings): void {
  const create = messages.create;
  messages.create = function tracedCreate(this: unknown, body: MessageCreateParams, requestOptions?: RequestOptions): CreateResult {
    const call = new MessageSpan(body, settings);
    return traceApiCall(
      call,
      (): CreateResult => create.call(this, body, requestOptions),
      (data) => {
        if (data instanceof Stream) return observeAccumulatedStream(data, client, call, new MessageAccumulator());
        call.succeeded(data);
        return data;
      },
      responseProps,
    );
  };
}

/**
 * The promise of the response's headers that every promise of one request shares (`_responseProps`,
 * internal to the SDK): it rejects when the request fails. Not asResponse(), as for openai: in this
 * SDK that tells the request a caller holds the raw response, which stops it from sending the
 * request again when the body fails to read.
 */
function responseProps(source: SdkApiPromise<unknown>): Promise<unknown> {
  const internal = source as unknown as { _responseProps?: () => Promise<unknown> };
  return typeof internal._responseProps === 'function' ? internal._responseProps() : source.asResponse();
}
