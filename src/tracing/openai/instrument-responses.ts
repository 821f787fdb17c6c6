import type { LlmSpanSettings } from '../call-span.ts';
import type OpenAI from 'openai';
import type { APIPromise } from 'openai';
import { Stream } from 'openai/streaming';
import type { Response, ResponseCreateParams, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { traceApiCall } from '../observed-api-promise.ts';
import { observeAccumulatedStream } from '../observed-stream.ts';
import { ResponseAccumulator } from './response-accumulator.ts';
import { ResponsesSpan } from './responses-span.ts';

type Create = OpenAI['responses']['create'];
type RequestOptions = Parameters<Create>[1];
type CreateResult = APIPromise<Response | Stream<ResponseStreamEvent>>;

const instrumented = new WeakSet<object>();

/**
 * Makes every `client.responses.create` call — plain, `stream: true`, with tools, and those under
 * `responses.stream()` and `responses.parse()` — a CHAT_MODEL span, with the same return values and
 * stream semantics as the chat completions instrumentation.
 */
export function instrumentResponses(client: OpenAI, settings: LlmSpanSettings): void {
  const responses = client.responses;
  // Absent from older versions of the SDK (the Responses API came in openai 4.87).
  if (responses === undefined || instrumented.has(responses)) return;
  instrumented.add(responses);
  const create = responses.create as (body: ResponseCreateParams, requestOptions?: RequestOptions) => CreateResult;

  function tracedCreate(this: unknown, body: ResponseCreateParams, requestOptions?: RequestOptions): CreateResult {
    const call = new ResponsesSpan(body, settings);
    return traceApiCall(
      call,
      (): CreateResult => create.call(this, body, requestOptions),
      (data) => {
        if (data instanceof Stream) return observeAccumulatedStream(data, client, call, new ResponseAccumulator());
        call.succeeded(data);
        return data;
      },
    );
  }
  responses.create = tracedCreate as Create;
}
