import { OpenAPIHono } from '@hono/zod-openapi';
import { SpanStatusCode } from '@opentelemetry/api';
import { cors } from 'hono/cors';
import { AnswerAborted } from '../types.ts';
import { bearerAuth } from '../../http-server/middleware/bearer-auth.ts';
import { setSpanOutputs } from '../../tracing/encode-attributes.ts';
import { errorBody } from './api-error.ts';
import { errorAnswer } from './error-response.ts';
import { accessLog } from './middleware/access-log.ts';
import { loadShedding } from './middleware/load-shedding.ts';
import { shutdownGuard } from './middleware/shutdown-guard.ts';
import type { RequestSpan } from './middleware/request-span.ts';
import { registerAgentTask } from './routes/agent-task.ts';
import { registerChat } from './routes/chat.ts';
import { isDocsPath, registerDocs } from './routes/docs.ts';
import { registerHealth } from './routes/health.ts';
import { registerOpenApiDocument } from './routes/openapi-document.ts';
import { registerRag } from './routes/rag.ts';
import type { AppDeps, ServerApp, ServerEnv } from './server-env.ts';
import { rejectInvalidRequest } from './validation-hook.ts';

/** How long a browser may reuse a preflight's answer. */
const CORS_PREFLIGHT_MAX_AGE_S = 600;

/** The docs page must load without a token: its assets and the API description are not secret. */
function isPublic(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/' || isDocsPath(path));
}

export function createApp(deps: AppDeps): ServerApp {
  const app = new OpenAPIHono<ServerEnv>({ defaultHook: rejectInvalidRequest });
  app.onError((error, c) => {
    const { status, body } = errorAnswer(error, `${c.req.method} ${c.req.path}`, deps.log);
    // A failed request's trace then says why in MLflow's response preview.
    const traced = c.get('requestSpan') as RequestSpan | undefined;
    if (traced) setSpanOutputs(traced.span, body);
    // A 4xx leaves a server span's status unset, but an answer cut short is no success in MLflow.
    if (traced && error instanceof AnswerAborted) traced.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    return c.json(body, status);
  });
  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path);
    // A GET route may still answer 404 itself (an unknown docs asset): that is no wrong method.
    if (allow.length === 0 || allow.includes(c.req.method))
      return c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}; the API is described at /docs`), 404);
    const message = `${c.req.path} does not take ${c.req.method}; use ${allow.join(' or ')} (the API is described at /docs)`;
    return c.json(errorBody('method_not_allowed', message), 405, { allow: allow.join(', ') });
  });

  if (deps.log) app.use(accessLog({ log: deps.log }));
  if (deps.shuttingDown) app.use(shutdownGuard({ signal: deps.shuttingDown }));
  if (deps.refusing) app.use(loadShedding({ refusing: deps.refusing, isExempt: isPublic }));
  // Before the token check: a browser's preflight never carries the Authorization header.
  if (deps.corsOrigins?.length) {
    app.use(
      cors({
        origin: deps.corsOrigins.includes('*') ? '*' : [...deps.corsOrigins],
        allowMethods: ['GET', 'HEAD', 'POST'],
        allowHeaders: ['content-type', 'authorization', 'traceparent', 'tracestate'],
        // So a front end can read which trace its request made.
        exposeHeaders: ['x-trace-id', 'traceparent'],
        maxAge: CORS_PREFLIGHT_MAX_AGE_S,
      }),
    );
  }
  if (deps.authToken) {
    const message = 'this server needs the header Authorization: Bearer <token>, with the token it was started with (--auth-token)';
    app.use(bearerAuth({ token: deps.authToken, isPublic, message }));
  }

  registerHealth(app, deps.info);
  registerChat(app, deps);
  registerRag(app, deps);
  registerAgentTask(app, deps);
  registerOpenApiDocument(app, { bearer: Boolean(deps.authToken) });
  registerDocs(app);
  return app;
}

/** The methods the routes registered for `path` answer (GET brings HEAD); empty when no route has the path. */
function allowedMethods(app: ServerApp, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL' || !routePattern(route.path).test(path)) continue;
    methods.add(route.method);
    if (route.method === 'GET') methods.add('HEAD');
  }
  return [...methods];
}

/** `/docs/assets/:file` → a pattern matching any one segment where the parameter is. */
function routePattern(routePath: string): RegExp {
  const escaped = routePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}
