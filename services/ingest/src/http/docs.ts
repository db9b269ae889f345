import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument } from './openapi.js';

const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>SMS gateway API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });
  </script>
</body>
</html>`;

/** `/openapi.json` and interactive docs at `/docs` (swagger-ui's own static files, served from the package). */
export function registerApiDocs(fastify: FastifyInstance): void {
  const document = JSON.stringify(buildOpenApiDocument());
  const uiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const files = new Map<string, Buffer>();
  fastify.get('/openapi.json', async (_request, reply) => reply.type('application/json').send(document));
  fastify.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  fastify.get<{ Params: { file: string } }>('/docs/:file', async (request, reply) => {
    const type = assets[request.params.file];
    if (!type) return reply.status(404).type('application/problem+json').send({ type: 'about:blank', title: 'Not found', status: 404 });
    let content = files.get(request.params.file);
    if (!content) {
      content = readFileSync(join(uiDir, request.params.file));
      files.set(request.params.file, content);
    }
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(content);
  });
}
