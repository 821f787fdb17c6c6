import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerApp } from '../server-env.ts';
import { OPENAPI_PATH } from './openapi-document.ts';

const DOCS_PATH = '/docs';
const ASSETS_PATH = `${DOCS_PATH}/assets`;

/** Served from the installed package, so the docs work with no internet access. */
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSET_TYPES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

// validatorUrl: null, or Swagger UI asks validator.swagger.io about the document.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>otel-mlflow serve — API</title>
  <link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" sizes="32x32" href="${ASSETS_PATH}/favicon-32x32.png">
  <link rel="icon" type="image/png" sizes="16x16" href="${ASSETS_PATH}/favicon-16x16.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: '${OPENAPI_PATH}',
      dom_id: '#swagger-ui',
      presets: [SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout',
      validatorUrl: null,
      persistAuthorization: true,
    });
  </script>
</body>
</html>
`;

export function registerDocs(app: ServerApp): void {
  app.get(DOCS_PATH, (c) => c.html(PAGE));
  app.get(`${ASSETS_PATH}/:file`, async (c) => {
    const type = ASSET_TYPES[c.req.param('file')];
    if (type === undefined) return c.notFound();
    const body = await readFile(join(SWAGGER_UI_DIR, c.req.param('file')));
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
}

export function isDocsPath(path: string): boolean {
  return path === DOCS_PATH || path.startsWith(`${ASSETS_PATH}/`) || path === OPENAPI_PATH;
}
