import {
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { HttpBindings } from '@hono/node-server';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { setSpanType } from '../../../tracing/encode-attributes.ts';
import { MlflowAttr, type SpanType } from '../../../tracing/mlflow-attributes.ts';
import { mlflowTraceId } from '../../../tracing/trace-id.ts';
import { markSpanFailed } from '../../../tracing/with-span.ts';

export interface RequestSpan {
  readonly span: Span;
  /**
   * MLflow's form of the trace id (`tr-<32 hex>`), as the response header and body carry it;
   * undefined when nothing is recorded (tracing off, or the request not sampled): no trace has it.
   */
  readonly traceId: string | undefined;
  /**
   * A streamed answer outlives its handler: the span then ends when `done` settles, not before;
   * `done` resolves to whether the whole answer was delivered.
   */
  endAfter(done: Promise<boolean>): void;
}

export type RequestSpanVariables = { requestSpan: RequestSpan };

export interface RequestSpanOptions {
  tracer: Tracer;
  spanType: SpanType;
}

type RequestSpanEnv = { Bindings: Partial<HttpBindings>; Variables: RequestSpanVariables };

/** Becomes the trace tag `refused` in MLflow (search `tag.refused`), and in `traces show`. */
const REFUSED_TAG = `${MlflowAttr.traceTagPrefix}refused`;

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * The request's root span (or a child of an incoming `traceparent`), active while the route runs so
 * everything the route does nests under it. Every response of the route says which trace it made.
 */
export const requestSpan = ({ tracer, spanType }: RequestSpanOptions) =>
  createMiddleware<RequestSpanEnv>(async (c, next) => {
    const route = c.req.routePath;
    const parent = propagation.extract(context.active(), c.req.raw.headers, headerGetter);
    const span = tracer.startSpan(`${c.req.method} ${route}`, { kind: SpanKind.SERVER, attributes: requestAttributes(c, route) }, parent);
    setSpanType(span, spanType);
    const { traceId, spanId, traceFlags } = span.spanContext();
    const recorded = span.isRecording() ? mlflowTraceId(traceId) : undefined;
    let streaming: Promise<boolean> | undefined;
    c.set('requestSpan', { span, traceId: recorded, endAfter: (done) => (streaming = done) });
    if (recorded) c.header('x-trace-id', recorded);
    // Propagated even when not recorded: the caller's sampling decision travels on.
    if (span.spanContext().traceFlags !== undefined && /[^0]/.test(traceId))
      c.header('traceparent', `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`);

    try {
      await context.with(trace.setSpan(parent, span), next);
    } catch (error) {
      endRequestSpan(span, 500, error, false);
      throw error;
    }
    const end = (delivered: boolean) => endRequestSpan(span, c.res.status, c.error, delivered);
    if (streaming) void streaming.then(end, () => end(false));
    else end(true);
  });

function requestAttributes(c: Context<RequestSpanEnv>, route: string): Attributes {
  const url = new URL(c.req.url);
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: c.req.method,
    [ATTR_URL_PATH]: url.pathname,
    [ATTR_URL_SCHEME]: url.protocol.slice(0, -1),
    [ATTR_HTTP_ROUTE]: route,
    [ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    [ATTR_SERVER_PORT]: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
  };
  const userAgent = c.req.header('user-agent');
  if (userAgent) attributes[ATTR_USER_AGENT_ORIGINAL] = userAgent;
  // Absent under app.request(), which has no socket.
  const clientAddress = c.env?.incoming?.socket?.remoteAddress;
  if (clientAddress) attributes[ATTR_CLIENT_ADDRESS] = clientAddress;
  return attributes;
}

/**
 * An answer delivered is OK, so MLflow does not show the root of an OK trace as UNSET; 4xx leave the
 * status unset, as the HTTP conventions say for server spans; 5xx are the server's failure.
 */
function endRequestSpan(span: Span, status: number, error: unknown, delivered: boolean): void {
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status < 400 && error === undefined && delivered) span.setStatus({ code: SpanStatusCode.OK });
  // A refused request (bad JSON, a missing field) still makes a trace: tagged, so MLflow can filter it out.
  if (status >= 400 && status < 500) span.setAttribute(REFUSED_TAG, `HTTP ${status}`);
  if (status >= 500) {
    span.setAttribute(ATTR_ERROR_TYPE, error instanceof Error ? error.name : String(status));
    if (error === undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
    else markSpanFailed(span, error);
  }
  span.end();
}
