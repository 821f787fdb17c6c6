import { Hono } from 'hono';
import { createOtlpHttpApp, OTLP_TRACES_PATH, type OtlpHttpOptions } from '../otlp/otlp-http-receiver.ts';

/** The relay's OTLP/HTTP port: traces at `POST /v1/traces`, the relay's health at `GET /`. */
export function createRelayApp(otlp: OtlpHttpOptions, health: () => object): Hono {
  const app = new Hono();
  app.route('/', createOtlpHttpApp(otlp));
  app.get('/', (c) => c.json(health()));
  app.all('/', (c) => c.json({ error: `${c.req.method} is not allowed on /; GET it for the relay's health` }, 405, { allow: 'GET, HEAD' }));
  app.notFound((c) =>
    c.json(
      { error: `no route ${c.req.path}: the relay takes OTLP traces at POST ${OTLP_TRACES_PATH}, and shows its health at GET /` },
      404,
    ),
  );
  return app;
}
