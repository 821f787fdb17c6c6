import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { testApp } from './server-fixtures.ts';

type OpenApi = {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema: { $ref: string } }> };
        responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
        security?: unknown[];
      }
    >
  >;
  components: {
    schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }>;
    securitySchemes?: Record<string, unknown>;
  };
  security?: unknown[];
};

async function openApi(authToken?: string): Promise<OpenApi> {
  const { app } = testApp(authToken === undefined ? {} : { authToken });
  const response = await app.request('/openapi.json');
  assert.equal(response.status, 200);
  return (await response.json()) as OpenApi;
}

describe('GET /openapi.json', () => {
  it('describes the four routes with the schemas that validate them', async () => {
    const doc = await openApi();
    assert.deepEqual(
      Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)),
      ['GET /', 'POST /chat', 'POST /rag/v1/answer', 'POST /agent/task'],
    );
    const bodyOf = (path: string) => doc.paths[path]!.post!.requestBody!.content['application/json']!.schema.$ref;
    const answerOf = (path: string) => doc.paths[path]!.post!.responses['200']!.content!['application/json']!.schema.$ref;
    assert.equal(bodyOf('/chat'), '#/components/schemas/ChatRequest');
    assert.equal(bodyOf('/rag/v1/answer'), '#/components/schemas/RagRequest');
    assert.equal(bodyOf('/agent/task'), '#/components/schemas/AgentTaskRequest');
    assert.equal(answerOf('/chat'), '#/components/schemas/ChatResponse');
    assert.equal(answerOf('/rag/v1/answer'), '#/components/schemas/RagResponse');
    assert.equal(answerOf('/agent/task'), '#/components/schemas/AgentTaskResponse');
    assert.ok(doc.paths['/chat']!.post!.responses['200']!.content!['text/event-stream'], 'the stream is documented');
    assert.equal(doc.paths['/']!.get!.responses['200']!.content!['application/json']!.schema.$ref, '#/components/schemas/Health');
    assert.deepEqual(Object.keys(doc.paths['/chat']!.post!.responses).sort(), ['200', '400', '401', '413', '415', '422', '500', '502']);

    const schemas = doc.components.schemas;
    assert.deepEqual(schemas.ChatRequest!.required, ['query']);
    assert.deepEqual(Object.keys(schemas.ChatRequest!.properties), ['query', 'session_id', 'user_id', 'stream']);
    assert.deepEqual(schemas.ChatRequest!.properties.query, {
      type: 'string',
      minLength: 1,
      maxLength: 8000,
      example: 'What is OpenTelemetry?',
    });
    assert.deepEqual(schemas.RagRequest!.properties.top_k, { type: 'integer', minimum: 1, maximum: 10, default: 3 });
    assert.deepEqual(schemas.AgentTaskRequest!.properties.max_steps, { type: 'integer', minimum: 1, maximum: 10, default: 5 });
    assert.deepEqual(schemas.AgentTaskResponse!.required, ['answer', 'model', 'finished', 'steps', 'usage', 'trace_id', 'trace_url']);
    assert.equal(doc.security, undefined);
    assert.equal(doc.components.securitySchemes, undefined);
  });

  it('states the limits: 64 KiB bodies, 8000-character queries, no unknown fields', async () => {
    const doc = (await openApi()) as OpenApi & { info: { description: string } };
    assert.match(doc.info.description, /at most 64 KiB \(larger: 413\), a query or task of at most 8000 characters/);
    assert.match(JSON.stringify(doc.paths['/chat']!.post!.responses['413']), /larger than 64 KiB/);
    const schemas = doc.components.schemas as Record<string, { additionalProperties?: unknown }>;
    for (const name of ['ChatRequest', 'RagRequest', 'AgentTaskRequest']) assert.equal(schemas[name]!.additionalProperties, false, name);
  });

  it('declares the bearer scheme when the server needs a token, and leaves GET / open', async () => {
    const doc = await openApi('docs-token-123');
    assert.deepEqual(doc.components.securitySchemes, {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'The token the server was started with (--auth-token)' },
    });
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
    assert.deepEqual(doc.paths['/']!.get!.security, []);
    assert.doesNotMatch(JSON.stringify(doc), /docs-token-123/);
  });
});

describe('GET /docs', () => {
  it("is a Swagger UI page whose assets are the installed swagger-ui-dist's own files", async () => {
    const { app } = testApp();
    const page = await app.request('/docs');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /SwaggerUIBundle\(/);
    assert.match(html, /url: '\/openapi.json'/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing is loaded from the internet');

    const dist = createRequire(import.meta.url)
      .resolve('swagger-ui-dist/package.json')
      .replace(/package\.json$/, '');
    for (const [file, type] of [
      ['swagger-ui-bundle.js', 'text/javascript'],
      ['swagger-ui.css', 'text/css'],
      ['favicon-32x32.png', 'image/png'],
    ] as const) {
      assert.match(html, new RegExp(`/docs/assets/${file}`));
      const asset = await app.request(`/docs/assets/${file}`);
      assert.equal(asset.status, 200, file);
      assert.match(asset.headers.get('content-type') ?? '', new RegExp(`^${type}`));
      assert.deepEqual(Buffer.from(await asset.arrayBuffer()), await readFile(`${dist}${file}`));
    }
  });

  it('serves only the listed assets, not other files of the package or beyond', async () => {
    const { app } = testApp();
    for (const path of ['/docs/assets/package.json', '/docs/assets/..%2F..%2Fpackage.json', '/docs/assets/index.html']) {
      assert.equal((await app.request(path)).status, 404, path);
    }
  });
});
