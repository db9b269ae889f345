import { z } from 'zod';
import { apiRoutes, problemSchema, type ApiRoute } from './api-routes.js';

type JsonSchema = Record<string, unknown>;

/** JSON Schema (draft 2020-12, what OpenAPI 3.1 uses) of a zod schema, as a request or a response. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

const statusText: Record<number, string> = {
  400: 'invalid request (each bad field named in `errors`)',
  401: 'missing, unknown or revoked API key',
  403: 'the API key lacks the scope',
  404: 'no such resource for this tenant',
  409: 'conflict with the resource\'s state',
  413: 'request body too large',
  415: 'the body is not application/json',
  422: 'Idempotency-Key reused with a different request',
  429: 'rate limit exceeded (see Retry-After)',
};

/** The OpenAPI 3.1 document, built from the route table and the zod schemas the handlers validate with. */
export function buildOpenApiDocument(options: { serverUrl?: string } = {}): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const problem = jsonSchemaOf(problemSchema, 'output');
  for (const route of Object.values(apiRoutes) as ApiRoute[]) {
    const parameters: unknown[] = [];
    for (const name of route.path.match(/:(\w+)/g) ?? []) {
      parameters.push({ name: name.slice(1), in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
    }
    if (route.query) {
      const querySchema = jsonSchemaOf(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, schema] of Object.entries(querySchema.properties ?? {})) {
        parameters.push({ name, in: 'query', required: querySchema.required?.includes(name) ?? false, schema });
      }
    }
    if (route.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Retries with the same key and body return the first response for 24 h; a different body is 422.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      });
    }
    const responses: Record<string, unknown> = {
      [route.success.status]: {
        description: route.success.description,
        content: { 'application/json': { schema: jsonSchemaOf(route.success.schema, 'output') } },
      },
    };
    for (const status of route.errors) {
      responses[status] = {
        description: statusText[status] ?? 'error',
        ...(status === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait' } } } : {}),
        content: { 'application/problem+json': { schema: problem } },
      };
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      security: [{ apiKey: [] }],
      'x-required-scope': route.scope,
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(route.body, 'input') } } } }
        : {}),
      responses,
    };
    (paths[openApiPath(route.path)] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'SMS gateway API',
      version: '1.0.0',
      description:
        'Send SMS through the gateway. Authenticate with `Authorization: Bearer <api key>`; keys carry the scopes `send` and `read`. ' +
        'Every error is `application/problem+json` (RFC 9457).',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key (sk_live_… or sk_test_…)' } } },
    paths,
  };
}
