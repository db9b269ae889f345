import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { batchRequestSchema } from '../domain/batch-request.js';
import { derivedEventId } from '../infra/outbox-relay.js';
import { apiRoutes } from './api-routes.js';
import { buildOpenApiDocument, jsonSchemaOf } from './openapi.js';

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument() as { openapi: string; paths: Record<string, Record<string, { operationId: string; requestBody?: { content: Record<string, { schema: unknown }> } }>> };

  test('is OpenAPI 3.1 with one operation per route of the table', () => {
    assert.equal(doc.openapi, '3.1.0');
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId)).sort();
    assert.deepEqual(operations, Object.values(apiRoutes).map((r) => r.operationId).sort());
  });

  test('request bodies are the JSON Schema of the zod schemas the handlers validate with', () => {
    assert.deepEqual(doc.paths['/v1/messages/batch']!.post!.requestBody!.content['application/json']!.schema, jsonSchemaOf(batchRequestSchema, 'input'));
    const schema = doc.paths['/v1/messages/batch']!.post!.requestBody!.content['application/json']!.schema as { properties: { recipients: { maxItems: number } } };
    assert.equal(schema.properties.recipients.maxItems, 10_000);
  });
});

describe('derived event ids', () => {
  test('are stable UUIDs, distinct per purpose', () => {
    const id = '2f1c3b7e-9a0d-4c55-8f6e-0b1a2c3d4e5f';
    assert.equal(derivedEventId(id, 'expired'), derivedEventId(id, 'expired'));
    assert.notEqual(derivedEventId(id, 'expired'), derivedEventId(id, 'other'));
    assert.match(derivedEventId(id, 'expired'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
