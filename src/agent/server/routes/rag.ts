import { createRoute } from '@hono/zod-openapi';
import { ROOT_SPANS } from '../../root-span.ts';
import { setSpanInputs, setSpanOutputs } from '../../../tracing/encode-attributes.ts';
import type { AppDeps } from '../server-env.ts';
import { RagRequest, RagResponse } from '../../api-schemas.ts';
import type { ServerApp } from '../server-env.ts';
import { ERROR_RESPONSES, jsonRequest, jsonResponse, traceFields, tracedJsonRoute } from './route-parts.ts';

export function registerRag(app: ServerApp, deps: AppDeps): void {
  const route = createRoute({
    method: 'post',
    path: '/rag/v1/answer',
    summary: 'Answer from the built-in Databricks / MLflow / OpenTelemetry corpus, with sources',
    middleware: tracedJsonRoute(deps, ROOT_SPANS.rag.type),
    request: { body: jsonRequest(RagRequest) },
    responses: { 200: jsonResponse(RagResponse, 'The answer, the passages it used, and its trace id'), ...ERROR_RESPONSES },
  });

  app.openapi(route, async (c) => {
    const request = c.req.valid('json');
    const { span } = c.var.requestSpan;
    setSpanInputs(span, ROOT_SPANS.rag.inputs(request));
    const result = await deps.agent.rag(request, c.req.raw.signal);
    setSpanOutputs(span, ROOT_SPANS.rag.outputs(result));
    return c.json(RagResponse.parse({ ...result, ...traceFields(c.var.requestSpan, deps.traceLink) }), 200);
  });
}
