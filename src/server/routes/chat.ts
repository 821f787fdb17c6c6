import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import { ChatRequest, ChatResponse } from '../api-schemas.ts';
import { assistantMessageOutputs, userMessageInputs } from '../chat-shapes.ts';
import type { ServerApp } from '../server-env.ts';
import { setSpanInputs, setSpanOutputs } from '../../tracing/encode-attributes.ts';
import { streamChat } from './chat-stream.ts';
import { ERROR_RESPONSES, jsonRequest, traceFields, tracedJsonRoute } from './route-parts.ts';

export function registerChat(app: ServerApp, deps: AppDeps): void {
  const route = createRoute({
    method: 'post',
    path: '/chat',
    summary: 'One LLM answer, whole or streamed',
    middleware: tracedJsonRoute(deps, 'CHAIN'),
    request: { body: jsonRequest(ChatRequest) },
    responses: {
      200: {
        description: 'The answer and its trace id; with `stream: true`, server-sent events (`delta`, then `done` with this JSON)',
        content: {
          'application/json': { schema: ChatResponse },
          'text/event-stream': { schema: z.string() },
        },
      },
      ...ERROR_RESPONSES,
    },
  });

  app.openapi(route, async (c) => {
    const { query, stream, ...ids } = c.req.valid('json');
    const request = { query, ...ids };
    const { span } = c.var.requestSpan;
    setSpanInputs(span, userMessageInputs(query, { ...ids, ...(stream !== undefined && { stream }) }));
    if (ids.session_id) span.setAttribute('session.id', ids.session_id);
    if (ids.user_id) span.setAttribute('user.id', ids.user_id);
    if (stream) return streamChat(c, deps, request);

    const result = await deps.agent.chat(request, c.req.raw.signal);
    setSpanOutputs(span, assistantMessageOutputs(result.answer, { model: result.model }));
    return c.json(ChatResponse.parse({ ...result, ...traceFields(c.var.requestSpan, deps.traceLink) }), 200);
  });
}
