import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import Fastify, { type FastifyInstance } from 'fastify';
import { nameFastifyRoutes } from '../../src/preload/fastify-routes.ts';
import { traceHttpServers } from '../../src/preload/http-server-spans.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let app: FastifyInstance;
let base: string;

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  traceHttpServers({ tracer: provider.getTracer('test'), captureContent: false });
  nameFastifyRoutes();
  app = Fastify();
  app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  app.register(async (scoped) => scoped.get('/orders/:order/lines/:line', async () => ({ ok: true })), { prefix: '/v1' });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(() => app.close());
beforeEach(() => exporter.reset());

async function requestSpan(path: string) {
  await (await fetch(`${base}${path}`)).text();
  while (exporter.getFinishedSpans().length === 0) await new Promise((resolve) => setImmediate(resolve));
  return exporter.getFinishedSpans()[0]!;
}

describe('a Fastify app’s requests', () => {
  it('are named by the route template Fastify publishes, with http.route', async () => {
    const span = await requestSpan('/items/42?full=1');
    assert.equal(span.name, 'GET /items/:id');
    assert.equal(span.attributes['http.route'], '/items/:id');
    assert.equal(span.attributes['url.path'], '/items/42');
  });

  it('carry a plugin’s prefix in the template', async () => {
    assert.equal((await requestSpan('/v1/orders/9/lines/2')).name, 'GET /v1/orders/:order/lines/:line');
  });

  it('keep the path when no route matched', async () => {
    const span = await requestSpan('/nothing/here');
    assert.equal(span.name, 'GET /nothing/here');
    assert.equal(span.attributes['http.route'], undefined);
    assert.equal(span.attributes['http.response.status_code'], 404);
  });
});
