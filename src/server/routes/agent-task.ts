import { createRoute } from '@hono/zod-openapi';
import { setSpanInputs, setSpanOutputs } from '../../tracing/encode-attributes.ts';
import type { AppDeps } from '../app.ts';
import { AgentTaskRequest, AgentTaskResponse } from '../api-schemas.ts';
import { assistantMessageOutputs, userMessageInputs } from '../chat-shapes.ts';
import type { ServerApp } from '../server-env.ts';
import { ERROR_RESPONSES, jsonRequest, jsonResponse, traceFields, tracedJsonRoute } from './route-parts.ts';

export function registerAgentTask(app: ServerApp, deps: AppDeps): void {
  const route = createRoute({
    method: 'post',
    path: '/agent/task',
    summary: 'A multi-step agent with tools (corpus search, calculator)',
    middleware: tracedJsonRoute(deps, 'AGENT'),
    request: { body: jsonRequest(AgentTaskRequest) },
    responses: { 200: jsonResponse(AgentTaskResponse, 'The answer, each step and its tool calls, and the trace id'), ...ERROR_RESPONSES },
  });

  app.openapi(route, async (c) => {
    const { task, max_steps } = c.req.valid('json');
    const { span } = c.var.requestSpan;
    setSpanInputs(span, userMessageInputs(task, { max_steps }));
    const result = await deps.agent.agentTask({ task, max_steps }, c.req.raw.signal);
    setSpanOutputs(
      span,
      assistantMessageOutputs(result.answer, { model: result.model, finished: result.finished, steps: result.steps }, result.finished ? 'stop' : 'length'),
    );
    return c.json(AgentTaskResponse.parse({ ...result, ...traceFields(c.var.requestSpan, deps.traceLink) }), 200);
  });
}
