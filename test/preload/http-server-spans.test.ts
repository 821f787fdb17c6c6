import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { FrameworkSpans, traceHttpServers } from '../../src/preload/http-server-spans.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new FrameworkSpans(), new SimpleSpanProcessor({ exporter })] });
let server: Server;
let base: string;

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  traceHttpServers({ tracer: provider.getTracer('test'), captureContent: true });
  server = createServer((req, res) => {
    // The handler runs with the request's span active: what it starts nests under it.
    trace.getTracer('app').startSpan('inside', {}, context.active()).end();
    // As Next.js does: a span of its own in the request's trace names the route.
    if (req.url === '/api/chat/42') {
      trace
        .getTracer('next.js')
        .startSpan('resolve page components', { attributes: { 'next.route': '/api/chat/[id]' } })
        .end();
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/missing') return res.writeHead(404).end('no such thing');
      // As Express leaves a route on the request: a catch-all under a prefix (NestJS's answer to no route matched).
      if (req.url === '/api/nowhere') {
        Object.assign(req, { baseUrl: '', route: { path: '/api*path' } });
        return res.writeHead(404).end('{"message":"Cannot GET /api/nowhere"}');
      }
      if (req.url === '/broken') return res.writeHead(500).end();
      if (req.url === '/hang') return res.write('partial');
      if (req.url === '/parts') {
        res.writeHead(200).write('[1,');
        return res.end(Buffer.from('{"b":"é"}]'));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: JSON.parse(body || '{}') }));
    });
  });
  trace.setGlobalTracerProvider(provider);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());
beforeEach(() => exporter.reset());

async function spansAfter(path: string, init: RequestInit = {}) {
  await (await fetch(`${base}${path}`, init)).text();
  await waitForSpans(2);
  return exporter.getFinishedSpans();
}

async function waitForSpans(count: number) {
  while (exporter.getFinishedSpans().length < count) await new Promise((resolve) => setImmediate(resolve));
}

describe('the program’s HTTP server requests', () => {
  it('are root server spans named METHOD /path, the handler’s spans under them, bodies as inputs and outputs', async () => {
    const spans = await spansAfter('/chat?session=1', {
      method: 'POST',
      body: '{"question":"hi"}',
      headers: { 'content-type': 'application/json' },
    });
    const root = spans.find((span) => span.name === 'POST /chat')!;
    assert.equal(root.kind, SpanKind.SERVER);
    assert.equal(root.parentSpanContext, undefined);
    assert.equal(spans.find((span) => span.name === 'inside')!.parentSpanContext?.spanId, root.spanContext().spanId);
    assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
    assert.equal(root.attributes['http.response.status_code'], 200);
    assert.equal(root.status.code, SpanStatusCode.OK);
    assert.deepEqual(JSON.parse(String(root.attributes['mlflow.spanInputs'])), { question: 'hi' });
    assert.deepEqual(JSON.parse(String(root.attributes['mlflow.spanOutputs'])), { echoed: { question: 'hi' } });
  });

  it('keep a body written in parts, text and bytes, and a body that is not JSON as text', async () => {
    const parts = (await spansAfter('/parts')).find((span) => span.name === 'GET /parts')!;
    assert.deepEqual(JSON.parse(String(parts.attributes['mlflow.spanOutputs'])), { items: [1, { b: 'é' }] });
    exporter.reset();
    const text = (await spansAfter('/missing')).find((span) => span.name === 'GET /missing')!;
    assert.equal(JSON.parse(String(text.attributes['mlflow.spanOutputs'])), 'no such thing');
  });

  it('are named by the route a framework’s own span in the trace tells (Next.js’s next.route)', async () => {
    const root = (await spansAfter('/api/chat/42', { method: 'POST', body: '{}' })).find((span) => span.kind === SpanKind.SERVER)!;
    assert.equal(root.name, 'POST /api/chat/[id]');
    assert.equal(root.attributes['http.route'], '/api/chat/[id]');
    assert.equal(root.attributes['url.path'], '/api/chat/42');
  });

  it('continue an incoming traceparent', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const spans = await spansAfter('/chat', { method: 'POST', headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(spans.find((span) => span.name === 'POST /chat')!.spanContext().traceId, traceId);
  });

  it('record nothing for a request whose caller sampled its trace out, nor for what its handler starts', async () => {
    await (
      await fetch(`${base}/chat`, {
        method: 'POST',
        body: '{}',
        headers: { traceparent: '00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' },
      })
    ).text();
    const spans = await spansAfter('/chat', { method: 'POST', body: '{}' });
    assert.deepEqual(
      spans.map((span) => span.name),
      ['inside', 'POST /chat'],
    );
  });

  it('tag a refused request (4xx) and fail on a 5xx', async () => {
    const refused = (await spansAfter('/missing')).find((span) => span.name === 'GET /missing')!;
    assert.equal(refused.attributes['mlflow.traceTag.refused'], 'HTTP 404');
    assert.equal(refused.status.code, SpanStatusCode.UNSET);
    exporter.reset();
    const broken = (await spansAfter('/broken')).find((span) => span.name === 'GET /broken')!;
    assert.equal(broken.status.code, SpanStatusCode.ERROR);
  });

  it('keep their path when a catch-all route answered 404, as a framework answers a request no route matched', async () => {
    const spans = await spansAfter('/api/nowhere');
    const request = spans.find((span) => span.kind === SpanKind.SERVER)!;
    assert.equal(request.name, 'GET /api/nowhere');
    assert.equal(request.attributes['http.route'], undefined);
    assert.equal(request.attributes['mlflow.traceTag.refused'], 'HTTP 404');
  });

  it('end as ERROR when the client goes away before the answer', async () => {
    const req = request(`${base}/hang`);
    req.end();
    const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream];
    res.once('data', () => req.destroy());
    await waitForSpans(2);
    const span = exporter.getFinishedSpans().find((each) => each.name === 'GET /hang')!;
    assert.equal(span.status.code, SpanStatusCode.ERROR);
  });
});

/**
 * The program's own HTTP instrumentation, patched after the preload (an ES module set-up in `--import`):
 * its emit runs first and makes its server span active, ending it on 'finish' as the contrib one does.
 */
describe('a server span the program’s own HTTP instrumentation starts for the request', () => {
  let instrumenting: ReturnType<TracerProvider['getTracer']> | undefined;
  const emit = Server.prototype.emit;
  before(() => {
    Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
      if (event !== 'request' || !instrumenting) return Reflect.apply(emit, this, [event, ...args]);
      const [req, res] = args as [IncomingMessage, ServerResponse];
      const attributes = { 'http.request.method': req.method!, 'url.path': req.url!.split('?')[0]! };
      const span = instrumenting.startSpan(req.method!, { kind: SpanKind.SERVER, attributes }, ROOT_CONTEXT);
      res.once('finish', () => span.end());
      return context.with(trace.setSpan(ROOT_CONTEXT, span), () => Reflect.apply(emit, this, [event, ...args]));
    } as typeof emit;
  });
  after(() => {
    Server.prototype.emit = emit;
    instrumenting = undefined;
  });

  it('is the request’s span when it was made through the tool’s provider: named, typed and with its bodies', async () => {
    instrumenting = provider.getTracer('@opentelemetry/instrumentation-http');
    const spans = await spansAfter('/chat?session=1', { method: 'POST', body: '{"question":"hi"}' });
    const roots = spans.filter((span) => span.parentSpanContext === undefined);
    assert.deepEqual(
      roots.map((span) => [span.name, span.instrumentationScope.name]),
      [['POST /chat', '@opentelemetry/instrumentation-http']],
    );
    const [root] = roots;
    assert.equal(spans.find((span) => span.name === 'inside')!.parentSpanContext?.spanId, root!.spanContext().spanId);
    assert.equal(root!.attributes['mlflow.spanType'], 'CHAIN');
    assert.deepEqual(JSON.parse(String(root!.attributes['mlflow.spanInputs'])), { question: 'hi' });
    assert.deepEqual(JSON.parse(String(root!.attributes['mlflow.spanOutputs'])), { echoed: { question: 'hi' } });
  });

  it('is left as it is when another provider made it, which may hold it past the program’s end', async () => {
    instrumenting = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('other');
    await spansAfter('/chat', { method: 'POST', body: '{}' });
    await waitForSpans(3);
    const roots = exporter.getFinishedSpans().filter((span) => span.parentSpanContext === undefined);
    assert.deepEqual(roots.map((span) => span.name).sort(), ['POST', 'POST /chat']);
    assert.equal(roots.find((span) => span.name === 'POST')!.attributes['mlflow.spanType'], undefined);
  });
});
