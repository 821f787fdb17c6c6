import { createRoute, z } from '@hono/zod-openapi';
import { ROOT_SPANS } from '../../root-span.ts';
import type { AppDeps } from '../server-env.ts';
import { ChatRequest, ChatResponse } from '../../api-schemas.ts';
import type { ServerApp } from '../server-env.ts';
import { setSpanInputs, setSpanOutputs } from '../../../tracing/encode-attributes.ts';
import { streamChat } from './chat-stream.ts';
import { ERROR_RESPONSES, jsonRequest, traceFields, tracedJsonRoute } from './route-parts.ts';

export function registerChat(app: ServerApp, deps: AppDeps): void {
  const route = createRoute({
    method: 'post',
    path: '/chat',
    summary: 'One LLM answer, whole or streamed',
    middleware: tracedJsonRoute(deps, ROOT_SPANS.chat.type),
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
    const body = c.req.valid('json');
    const { stream, ...request } = body;
    const { span } = c.var.requestSpan;
    setSpanInputs(span, ROOT_SPANS.chat.inputs(body));
    if (request.session_id) span.setAttribute('session.id', request.session_id);
    if (request.user_id) span.setAttribute('user.id', request.user_id);
    if (stream) return streamChat(c, deps, request);

    const result = await deps.agent.chat(request, c.req.raw.signal);
    setSpanOutputs(span, ROOT_SPANS.chat.outputs(result));
    return c.json(ChatResponse.parse({ ...result, ...traceFields(c.var.requestSpan, deps.traceLink) }), 200);
  });
}
