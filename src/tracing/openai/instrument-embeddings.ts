import { APIError } from 'openai';
import { SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type OpenAI from 'openai';
import type { APIPromise } from 'openai';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import { setSpanInputs, setSpanOutputs, setTokenUsage } from '../encode-attributes.ts';
import { CallSpan, type LlmSpanSettings } from '../call-span.ts';
import { traceApiCall } from '../observed-api-promise.ts';

type Create = OpenAI['embeddings']['create'];
type RequestOptions = Parameters<Create>[1];
type Embeddings = Omit<CreateEmbeddingResponse, 'data'> & { data: { index: number; object: string; embedding: number[] | string }[] };

const instrumented = new WeakSet<object>();

/**
 * Makes every `client.embeddings.create` call an EMBEDDING span: the request as inputs, token usage,
 * and as outputs the answer without its vectors (each vector's index and dimensions instead: thousands
 * of numbers per input would swamp the trace and tell a reader nothing).
 */
export function instrumentEmbeddings(client: OpenAI, settings: LlmSpanSettings): void {
  const embeddings = client.embeddings;
  if (instrumented.has(embeddings)) return;
  instrumented.add(embeddings);
  const create = embeddings.create as (body: EmbeddingCreateParams, requestOptions?: RequestOptions) => APIPromise<Embeddings>;

  function tracedCreate(this: unknown, body: EmbeddingCreateParams, requestOptions?: RequestOptions): APIPromise<Embeddings> {
    const call = new CallSpan(`embeddings ${body.model}`, 'EMBEDDING', () => requestAttributes(body, settings), settings, APIError);
    if (call.capturesContent && settings.contentAttributes === 'mlflow') setSpanInputs(call.span, body);
    const ends = {
      span: call.span,
      failed: (error: unknown) => call.end('embeddings', () => call.recordFailure(error)),
      respondedRaw: () => call.end('embeddings', () => undefined),
    };
    return traceApiCall(
      ends,
      () => create.call(this, body, requestOptions),
      (data) => {
        call.end('embeddings', () => {
          call.span.setStatus({ code: SpanStatusCode.OK });
          recordResponse(call, data);
        });
        return data;
      },
    );
  }
  embeddings.create = tracedCreate as Create;
}

function requestAttributes(body: EmbeddingCreateParams, settings: LlmSpanSettings): Attributes {
  return {
    'gen_ai.operation.name': 'embeddings',
    'gen_ai.provider.name': settings.provider,
    'gen_ai.request.model': body.model,
    ...(body.encoding_format && { 'gen_ai.request.encoding_formats': [body.encoding_format] }),
    ...(typeof body.dimensions === 'number' && { 'gen_ai.embeddings.dimension.count': body.dimensions }),
  };
}

function recordResponse(call: CallSpan, response: Embeddings): void {
  const data = response.data ?? [];
  const dimensions = data.map(({ embedding }) =>
    typeof embedding === 'string' ? Buffer.from(embedding, 'base64').length / 4 : embedding.length,
  );
  call.span.setAttributes({
    ...(response.model && { 'gen_ai.response.model': response.model }),
    ...(dimensions[0] !== undefined && { 'gen_ai.embeddings.dimension.count': dimensions[0] }),
  });
  if (response.usage) setTokenUsage(call.span, { input: response.usage.prompt_tokens, output: 0 });
  if (!call.capturesContent || call.settings.contentAttributes !== 'mlflow') return;
  setSpanOutputs(call.span, {
    object: response.object,
    model: response.model,
    data: data.map(({ index, object }, at) => ({ index, object, dimensions: dimensions[at] })),
    usage: response.usage,
  });
}
