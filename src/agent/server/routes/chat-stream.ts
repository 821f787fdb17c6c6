import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { ROOT_SPANS, unfinishedAnswerOutputs } from '../../root-span.ts';
import type { ChatRequest } from '../../types.ts';
import { setSpanOutputs } from '../../../tracing/encode-attributes.ts';
import { markSpanFailed } from '../../../tracing/with-span.ts';
import type { AppDeps } from '../server-env.ts';
import { ChatResponse } from '../../api-schemas.ts';
import { errorAnswer } from '../error-response.ts';
import type { ServerEnv } from '../server-env.ts';
import { traceFields } from './route-parts.ts';

/**
 * `/chat` with `stream: true`: `delta` events as the model writes, then `done` with the JSON the plain
 * route answers. A client that goes away aborts the model call, and the request span still ends.
 */
export async function streamChat(c: Context<ServerEnv>, deps: AppDeps, request: ChatRequest): Promise<Response> {
  const requestSpan = c.var.requestSpan;
  const { span } = requestSpan;
  const where = `${c.req.method} ${c.req.path} (stream)`;
  // The request's signal covers app.request() and Node's socket; the stream's own abort covers a reader that cancels.
  const streamClosed = new AbortController();
  const signal = AbortSignal.any([c.req.raw.signal, streamClosed.signal]);
  const events = deps.agent.chatStream(request, signal)[Symbol.asyncIterator]();
  // A provider that fails before the first event still gets its 502, not a 200 stream that errors.
  const first = await events.next();

  let finished!: (delivered: boolean) => void;
  requestSpan.endAfter(new Promise<boolean>((resolve) => (finished = resolve)));
  let delivered = false;
  return streamSSE(c, async (sse) => {
    sse.onAbort(() => streamClosed.abort());
    let answer = '';
    try {
      for (let next = first; !next.done && !signal.aborted; next = await events.next()) {
        const event = next.value;
        if (event.type === 'delta') {
          answer += event.text;
          await sse.writeSSE({ event: 'delta', data: JSON.stringify({ text: event.text }) });
        } else {
          answer = event.result.answer;
          setSpanOutputs(span, ROOT_SPANS.chat.outputs(event.result));
          const done = ChatResponse.parse({ ...event.result, ...traceFields(requestSpan, deps.traceLink) });
          await sse.writeSSE({ event: 'done', data: JSON.stringify(done) });
          delivered = true;
        }
      }
      if (signal.aborted) markClientGone(span, answer);
    } catch (error) {
      if (signal.aborted) {
        markClientGone(span, answer);
      } else {
        markSpanFailed(span, error);
        await sse.writeSSE({ event: 'error', data: JSON.stringify(errorAnswer(error, where, deps.log).body) });
      }
    } finally {
      // Stopping early must still run the agent's cleanup, which ends its LLM span.
      await Promise.resolve(events.return?.())
        .catch((error: unknown) => errorAnswer(error, `${where} cleanup`, deps.log))
        .finally(() => finished(delivered && !signal.aborted));
    }
  });
}

function markClientGone(span: Span, partialAnswer: string): void {
  setSpanOutputs(span, unfinishedAnswerOutputs(partialAnswer));
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the answer was complete' });
}
