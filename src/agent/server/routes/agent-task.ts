import { createRoute } from '@hono/zod-openapi';
import { ROOT_SPANS } from '../../root-span.ts';
import { setSpanInputs, setSpanOutputs } from '../../../tracing/encode-attributes.ts';
import type { AppDeps } from '../server-env.ts';
import { AgentTaskRequest, AgentTaskResponse } from '../../api-schemas.ts';
import type { ServerApp } from '../server-env.ts';
import { ERROR_RESPONSES, jsonRequest, jsonResponse, traceFields, tracedJsonRoute } from './route-parts.ts';

export function registerAgentTask(app: ServerApp, deps: AppDeps): void {
  const route = createRoute({
    method: 'post',
    path: '/agent/task',
    summary: 'A multi-step agent with tools (corpus search, calculator)',
    middleware: tracedJsonRoute(deps, ROOT_SPANS.agent.type),
    request: { body: jsonRequest(AgentTaskRequest) },
    responses: { 200: jsonResponse(AgentTaskResponse, 'The answer, each step and its tool calls, and the trace id'), ...ERROR_RESPONSES },
  });

  app.openapi(route, async (c) => {
    const request = c.req.valid('json');
    const { span } = c.var.requestSpan;
    setSpanInputs(span, ROOT_SPANS.agent.inputs(request));
    const result = await deps.agent.agentTask(request, c.req.raw.signal);
    setSpanOutputs(span, ROOT_SPANS.agent.outputs(result));
    return c.json(AgentTaskResponse.parse({ ...result, ...traceFields(c.var.requestSpan, deps.traceLink) }), 200);
  });
}
