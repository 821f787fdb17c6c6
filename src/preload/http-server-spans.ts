import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { encodeJsonAttribute, setSpanType } from '../tracing/encode-attributes.ts';
import { MlflowAttr } from '../tracing/mlflow-attributes.ts';
import { sseText } from './sse-text.ts';

/** Request and response bodies are kept up to this for the trace's previews; MLflow shows far less. */
const BODY_CAPTURE_BYTES = 64 * 1024;
/** Becomes the trace tag `refused` in MLflow, as on serve's traces. */
const REFUSED_TAG = `${MlflowAttr.traceTagPrefix}refused`;

export interface ServerSpanOptions {
  tracer: Tracer;
  /** Keep request and response bodies as the root span's inputs and outputs. */
  captureContent: boolean;
}

type Emit = (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * Every request a node:http or node:https server of the program handles becomes the root span of a
 * trace (or a child of an incoming `traceparent`), active while the program's handler runs, so the
 * LLM calls it makes nest under it; Express, Fastify, Hono on @hono/node-server and Next.js all
 * serve through these. Patched once on the servers' prototypes, before the program creates one.
 */
export function traceHttpServers(options: ServerSpanOptions): void {
  for (const server of [http.Server, https.Server] as unknown as { prototype: { emit: Emit } }[]) {
    const emit = server.prototype.emit;
    server.prototype.emit = function (this: http.Server, event, ...args) {
      if (event !== 'request') return emit.call(this, event, ...args);
      const [req, res] = args as [IncomingMessage, ServerResponse];
      const active = trace.getSpan(context.active());
      if (active && isServerSpanOf(active, req)) {
        adoptRequestSpan(options, active, req, res);
        return emit.call(this, event, ...args);
      }
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const span = startRequestSpan(options, req, res, parent);
      return context.with(trace.setSpan(parent, span), () => emit.call(this, event, ...args));
    } as Emit;
  }
}

/** Server spans other instrumentations started through the tool's provider (see FrameworkSpans). */
const serverSpansMadeHere = new WeakSet<Span>();

/** What an SDK span exposes beyond the API's Span: the program's own HTTP instrumentation makes such spans. */
interface SdkSpanFields {
  kind?: unknown;
  ended?: unknown;
  attributes?: Attributes;
}

/**
 * A server span another HTTP instrumentation (the program's own OpenTelemetry set-up, loaded after
 * the preload) started through the tool's provider for this very request, and made active for its
 * handler: its method and path, in the old or the stable conventions, are this request's.
 */
function isServerSpanOf(span: Span, req: IncomingMessage): boolean {
  const { ended, attributes } = span as SdkSpanFields;
  if (!serverSpansMadeHere.has(span) || ended === true || !span.isRecording() || !attributes) return false;
  const method = attributes['http.request.method'] ?? attributes['http.method'];
  const path = attributes['url.path'] ?? attributes['http.target'];
  return method === req.method && typeof path === 'string' && path.split('?', 1)[0] === pathOf(req);
}

/**
 * The program's own instrumentation already made this request's span: a second root beside it would
 * split every request into two traces, one of them with no previews. That span becomes the request's
 * span instead, as MLflow shows it: its type, its bodies, its route. What the instrumentation records
 * and when it ends the span stay its own; these are set before its own 'finish' and 'close' listeners run.
 */
function adoptRequestSpan({ captureContent }: ServerSpanOptions, span: Span, req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET';
  // Named as run names the requests it traces itself, by path until a route template is known.
  span.updateName(`${method} ${pathOf(req)}`);
  setSpanType(span, 'CHAIN');
  const bodies = captureContent ? captureBodies(req, res) : undefined;
  whenAnswered(span, req, res, 'before others', () => describeAnswer(span, req, res, method, bodies));
}

function startRequestSpan({ tracer, captureContent }: ServerSpanOptions, req: IncomingMessage, res: ServerResponse, parent: Context): Span {
  const method = req.method ?? 'GET';
  const path = pathOf(req);
  // No start attributes: the samplers a user can choose (OTEL_TRACES_SAMPLER) decide without them, and a sampled-out request builds none.
  const span = tracer.startSpan(`${method} ${path}`, { kind: SpanKind.SERVER }, parent);
  // Sampled out: its end would record nothing, and its context alone carries the decision.
  if (!span.isRecording()) return span;
  span.setAttributes(requestAttributes(req, method, path));
  setSpanType(span, 'CHAIN');
  const bodies = captureContent ? captureBodies(req, res) : undefined;
  whenAnswered(span, req, res, 'after others', () => endRequestSpan(span, req, res, method, bodies));
  return span;
}

/**
 * Runs `done` once, as the answer is handed over ('finish', before a program that exits right after
 * answering is gone; 'close' comes a tick later) or as the client goes away first ('close' alone):
 * before the listeners the response has already, or after them. Meanwhile the request is the one its
 * span's trace is answering.
 */
function whenAnswered(
  span: Span,
  req: IncomingMessage,
  res: ServerResponse,
  order: 'before others' | 'after others',
  done: () => void,
): void {
  const { traceId } = span.spanContext();
  let ran = false;
  const once = () => {
    if (ran) return;
    ran = true;
    if (answering.get(traceId) === req) answering.delete(traceId);
    done();
  };
  const listen = order === 'before others' ? res.prependOnceListener : res.once;
  listen.call(res, 'finish', once);
  listen.call(res, 'close', once);
  answering.set(traceId, req);
}

/** The request's path, without the query. */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0]!;
}

function requestAttributes(req: IncomingMessage, method: string, path: string): Attributes {
  const [host, port] = (req.headers.host ?? '').split(/:(?=\d+$)/);
  const attributes: Attributes = {
    'http.request.method': method,
    'url.path': path,
    'url.scheme': (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
  };
  if (host) attributes['server.address'] = host;
  if (port) attributes['server.port'] = Number(port);
  if (req.headers['user-agent']) attributes['user_agent.original'] = req.headers['user-agent'];
  if (req.socket?.remoteAddress) attributes['client.address'] = req.socket.remoteAddress;
  return attributes;
}

/**
 * Route templates a framework told of while it handled the request (Fastify, Koa), or where to read
 * it once the request is answered (Hono, which knows the route that answered only then).
 */
const toldRoutes = new WeakMap<IncomingMessage, string | (() => string | undefined)>();

/** The request is served by the route with this template (`/users/:id`), or the one `route` reads then: the span is named by it when it ends. */
export function tellRoute(req: IncomingMessage, route: string | (() => string | undefined)): void {
  toldRoutes.set(req, route);
}

/** The requests being answered, by their trace: a framework's own spans in that trace may tell the route. */
const answering = new Map<string, IncomingMessage>();

/**
 * Spans the program's own instrumentations make through the tool's provider. Next.js names the route
 * (`/api/chat/[id]`) on spans of its own in the request's trace (`next.route`), the first of which
 * ends long before the response: the request's span takes it. An HTTP instrumentation's server span
 * may become the request's span (see adoptRequestSpan): only one made here, whose end the preload
 * hands over as promptly as its own spans'; one of another provider's may wait in its batch and be
 * lost with the program, and a trace must not lose its root that way.
 */
export class FrameworkSpans implements SpanProcessor {
  onStart(span: Span): void {
    if ((span as SdkSpanFields).kind === SpanKind.SERVER) serverSpansMadeHere.add(span);
  }

  onEnd(span: ReadableSpan): void {
    const route = span.attributes['next.route'];
    if (typeof route !== 'string') return;
    const req = answering.get(span.spanContext().traceId);
    if (req) tellRoute(req, route);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The route template, where a framework told it or left it on the request (Express: `req.route.path`
 * under `req.baseUrl`); else the path, without the query.
 */
function routeOf(req: IncomingMessage): string | undefined {
  const told = toldRoutes.get(req);
  if (told !== undefined) return typeof told === 'string' ? told : told();
  const { route, baseUrl } = req as { route?: { path?: unknown }; baseUrl?: unknown };
  if (typeof route?.path !== 'string') return undefined;
  return `${typeof baseUrl === 'string' ? baseUrl : ''}${route.path}`;
}

/** A response that was answered is OK; 4xx leave the status unset, as the HTTP conventions say for servers; 5xx failed. */
function endRequestSpan(span: Span, req: IncomingMessage, res: ServerResponse, method: string, bodies: Bodies | undefined): void {
  describeAnswer(span, req, res, method, bodies);
  const status = res.statusCode;
  span.setAttribute('http.response.status_code', status);
  if (!res.writableFinished) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client went away before the answer was sent' });
  } else if (status >= 500) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
  } else if (status < 400) {
    span.setStatus({ code: SpanStatusCode.OK });
  }
  span.end();
}

/**
 * A route that takes every path under it (Express 5's `*splat` and `/{*splat}`, Express 4's `*`,
 * Koa's `(.*)`): one that answers 404 is a framework's own answer to a request no route matched
 * (NestJS mounts one under its global prefix, `/api*path`), and the request keeps its path.
 */
const CATCH_ALL = /(\*\w*\}?|\(\.\*\))$/;

/** What MLflow shows of a request's span, whoever made it: its route, whether it was refused, its bodies. */
function describeAnswer(span: Span, req: IncomingMessage, res: ServerResponse, method: string, bodies: Bodies | undefined): void {
  const route = routeOf(req);
  if (route && !(res.statusCode === 404 && CATCH_ALL.test(route))) {
    span.updateName(`${method} ${route}`);
    span.setAttribute('http.route', route);
  }
  if (res.writableFinished && res.statusCode >= 400 && res.statusCode < 500) span.setAttribute(REFUSED_TAG, `HTTP ${res.statusCode}`);
  if (bodies) {
    const inputs = bodyAttribute(bodies.request);
    if (inputs !== undefined) span.setAttribute(MlflowAttr.spanInputs, inputs);
    const outputs = bodyAttribute(bodies.response);
    if (outputs !== undefined) span.setAttribute(MlflowAttr.spanOutputs, outputs);
  }
}

/** A body as it passed, up to the cap: text written as text stays a string until the span ends. */
interface Body {
  parts: (Buffer | string)[];
  bytes: number;
}

interface Bodies {
  request: Body;
  response: Body;
}

/**
 * The bodies as they pass, up to a cap: the request's as its parser pushes them (nothing reads the
 * stream for the program, which still consumes it as it likes; the parser's chunks are fresh memory
 * each), the response's as the program writes them (its buffers copied: it may reuse them).
 */
function captureBodies(req: IncomingMessage, res: ServerResponse): Bodies {
  const bodies: Bodies = { request: { parts: [], bytes: 0 }, response: { parts: [], bytes: 0 } };
  const push = req.push;
  req.push = function (chunk: unknown, encoding?: BufferEncoding) {
    keep(bodies.request, chunk, encoding, false);
    return push.call(this, chunk, encoding);
  };
  const write = res.write as (...args: unknown[]) => boolean;
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    keep(bodies.response, args[0], args[1], true);
    return write.apply(this, args);
  } as ServerResponse['write'];
  const end = res.end as (...args: unknown[]) => ServerResponse;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    keep(bodies.response, args[0], args[1], true);
    return end.apply(this, args);
  } as ServerResponse['end'];
  return bodies;
}

function keep(body: Body, chunk: unknown, encoding: unknown, copy: boolean): void {
  const room = BODY_CAPTURE_BYTES - body.bytes;
  if (room <= 0 || chunk == null || typeof chunk === 'function') return;
  if (typeof chunk === 'string') {
    const utf8 = typeof encoding !== 'string' || encoding === 'utf8' || encoding === 'utf-8';
    const bytes = utf8 ? Buffer.byteLength(chunk) : Number.POSITIVE_INFINITY;
    if (bytes <= room) {
      body.parts.push(chunk);
      body.bytes += bytes;
    } else {
      keepBytes(body, Buffer.from(chunk, utf8 ? 'utf8' : (encoding as BufferEncoding)), room, false);
    }
  } else if (chunk instanceof Uint8Array) {
    keepBytes(body, chunk, room, copy);
  }
}

function keepBytes(body: Body, bytes: Uint8Array, room: number, copy: boolean): void {
  const kept = bytes.subarray(0, room);
  body.parts.push(copy ? Buffer.from(kept) : Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength));
  body.bytes += kept.byteLength;
}

/**
 * The body as the span's inputs or outputs: JSON as it came (MLflow previews chat-shaped JSON as the
 * conversation; it is only checked, not rewritten), a server-sent event stream as the text it carried,
 * any other text as a JSON string. By its look, not its content type: headers given to `writeHead()`
 * are not readable afterwards.
 */
function bodyAttribute({ parts }: Body): string | undefined {
  if (parts.length === 0) return undefined;
  const text = parts.every((part) => typeof part === 'string')
    ? parts.join('')
    : Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))).toString('utf8');
  if (!/^\s*[[{]/.test(text)) return encodeJsonAttribute(sseText(text) ?? text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return encodeJsonAttribute(text);
  }
  // As encodeJsonAttribute wraps a top-level array.
  return Array.isArray(value) ? `{"items":${text}}` : text;
}
