import { z } from 'zod';
import { encodingSchema, messageStatusSchema, reasonSchema, trafficClassSchema } from '@sms/contracts';
import { batchRequestSchema } from '../domain/batch-request.js';
import { sendRequestSchema } from '../domain/send-request.js';
import type { ApiKeyScope } from '../domain/api-key.js';

/*
 * The public API in one table. Controllers take their paths and request schemas from here, the OpenAPI
 * document is built from it, and a test checks that the routes the app serves are exactly these: the
 * document cannot drift from the code.
 */

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), code: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; `errors` names each bad field.' });

export const acceptedMessageSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['accepted', 'scheduled']),
    encoding: encodingSchema,
    segments: z.number().int(),
    acceptedAt: z.iso.datetime(),
  })
  .meta({ id: 'AcceptedMessage' });

const partCountsSchema = z
  .object({
    total: z.number().int().describe('parts of the message'),
    delivered: z.number().int().describe('parts with a delivered receipt'),
    failed: z.number().int().describe('parts that failed or got a failure receipt'),
  })
  .meta({ id: 'PartCounts' });

const historyEntrySchema = z.object({
  status: messageStatusSchema,
  reason: reasonSchema.nullable(),
  carrierId: z.string().nullable(),
  parts: partCountsSchema.nullable(),
  occurredAt: z.iso.datetime(),
});

const messageSummaryShape = {
  id: z.uuid(),
  status: messageStatusSchema,
  statusReason: reasonSchema.nullable(),
  to: z.string(),
  from: z.string(),
  trafficClass: trafficClassSchema,
  encoding: encodingSchema,
  segments: z.number().int(),
  reference: z.string().nullable(),
  batchId: z.uuid().nullable(),
  sandbox: z.boolean(),
  callbackUrl: z.string().nullable(),
  sendAt: z.iso.datetime().nullable(),
  validUntil: z.iso.datetime(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};
export const messageSummarySchema = z.object(messageSummaryShape).meta({ id: 'MessageSummary' });
export const messageViewSchema = z
  .object({ ...messageSummaryShape, parts: partCountsSchema, history: z.array(historyEntrySchema) })
  .meta({ id: 'Message' });

export const messageListQuerySchema = z.strictObject({
  status: messageStatusSchema.optional(),
  createdFrom: z.iso.datetime({ offset: true }).optional(),
  createdTo: z.iso.datetime({ offset: true }).optional(),
  reference: z.string().max(128).optional(),
  batchId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
export const messageListSchema = z
  .object({ items: z.array(messageSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'MessageList' });

export const batchResultSchema = z
  .object({
    batchId: z.uuid(),
    recipients: z.number().int(),
    accepted: z.number().int(),
    rejected: z.number().int(),
    results: z.array(
      z.union([
        z.object({ index: z.number().int(), status: z.enum(['accepted', 'scheduled']), id: z.uuid(), encoding: encodingSchema, segments: z.number().int() }),
        z.object({ index: z.number().int(), status: z.literal('rejected'), errors: problemSchema.shape.errors.unwrap() }),
      ]),
    ),
  })
  .meta({ id: 'BatchResult' });

export const batchViewSchema = z
  .object({
    id: z.uuid(),
    recipients: z.number().int(),
    accepted: z.number().int(),
    rejected: z.number().int(),
    counts: z.record(z.string(), z.number().int()).describe('accepted messages by current status'),
    final: z.number().int().describe('accepted messages that reached a final status'),
    progress: z.number().min(0).max(1).describe('final / accepted (1 when nothing was accepted)'),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Batch' });

export const routePreviewSchema = z
  .object({
    outcome: z
      .enum(['routable', 'no_route', 'no_carrier'])
      .describe('`routable`: a rule matched and has a carrier; `no_route`: no rule matches (the message would fail); `no_carrier`: every carrier of the rule was skipped'),
    routeId: z.string().nullable().describe('the matched rule'),
    rule: z.string().nullable().describe('the matched rule\'s conditions, e.g. `prefix +4479, class otp` or `catch-all`'),
    strategy: z
      .enum(['ordered', 'weighted', 'cheapest'])
      .nullable()
      .describe('how the first carrier is chosen; `weighted` picks by message id, so a real message\'s first choice may differ from this one'),
    carriers: z.array(z.string()).describe('carrier ids in attempt order: first choice, then failover'),
    skipped: z
      .array(z.object({ carrierId: z.string(), reason: z.string().describe('`not_simulator`: a sandbox key only routes to simulator carriers') }))
      .describe('carriers of the rule that would not be tried, and why'),
    country: z.string().nullable().describe('ISO country of the number, when a rule matches on countries'),
    matchedPrefix: z.string().nullable(),
  })
  .meta({
    id: 'RoutePreview',
    description:
      'Resolved by the router\'s own route engine over the same gateway config file, with every carrier assumed healthy: ' +
      'circuit-breaker state lives in the router, which skips a carrier whose breaker is open (failover to the next). ' +
      'The router\'s compliance checks (opt-outs, sender registration, quiet hours) are not applied here.',
  });

export const previewSchema = z
  .object({
    to: z.string(),
    from: z.string(),
    trafficClass: trafficClassSchema,
    lane: z.string().describe('the dispatch lane the message would travel'),
    encoding: encodingSchema,
    segments: z.number().int(),
    sandbox: z.boolean(),
    route: routePreviewSchema
      .nullable()
      .describe('the route the router would take; null when this ingest has no gateway config file (GATEWAY_CONFIG_FILE)'),
  })
  .meta({ id: 'Preview' });

export const cancelResultSchema = z.object({ id: z.uuid(), status: z.literal('canceled') }).meta({ id: 'CancelResult' });

export type HttpMethod = 'get' | 'post' | 'delete';

export interface ApiRoute {
  method: HttpMethod;
  /** Nest/fastify path syntax (`:id`); the document shows `{id}`. */
  path: string;
  operationId: string;
  summary: string;
  scope: ApiKeyScope;
  body?: z.ZodType;
  query?: z.ZodObject;
  idempotent?: boolean;
  success: { status: number; schema: z.ZodType; description: string };
  errors: number[];
}

const auth = [401, 403, 429];

export const apiRoutes = {
  sendMessage: {
    method: 'post',
    path: '/v1/messages',
    operationId: 'sendMessage',
    summary: 'Send (or schedule) one message',
    scope: 'send',
    body: sendRequestSchema,
    idempotent: true,
    success: { status: 202, schema: acceptedMessageSchema, description: 'accepted (or scheduled when `sendAt` is given)' },
    errors: [400, ...auth, 413, 415, 422],
  },
  sendBatch: {
    method: 'post',
    path: '/v1/messages/batch',
    operationId: 'sendBatch',
    summary: 'Send one message to up to 10,000 recipients (one body for all, or per-recipient values)',
    scope: 'send',
    body: batchRequestSchema,
    idempotent: true,
    success: { status: 202, schema: batchResultSchema, description: 'the batch id and each recipient\'s outcome' },
    errors: [400, ...auth, 413, 415, 422],
  },
  previewMessage: {
    method: 'post',
    path: '/v1/messages/preview',
    operationId: 'previewMessage',
    summary: 'Validate a message and show its encoding, segments, lane and route (rule, carriers in order, skipped carriers); sends nothing',
    scope: 'send',
    body: sendRequestSchema,
    success: { status: 200, schema: previewSchema, description: 'what sending it would do' },
    errors: [400, ...auth, 413, 415],
  },
  listMessages: {
    method: 'get',
    path: '/v1/messages',
    operationId: 'listMessages',
    summary: 'List messages, newest first, with filters and cursor pagination',
    scope: 'read',
    query: messageListQuerySchema,
    success: { status: 200, schema: messageListSchema, description: 'a page of messages; pass `nextCursor` as `cursor` for the next' },
    errors: [400, ...auth],
  },
  getMessage: {
    method: 'get',
    path: '/v1/messages/:id',
    operationId: 'getMessage',
    summary: 'A message with its full status history',
    scope: 'read',
    success: { status: 200, schema: messageViewSchema, description: 'the message' },
    errors: [...auth, 404],
  },
  cancelMessage: {
    method: 'delete',
    path: '/v1/messages/:id',
    operationId: 'cancelMessage',
    summary: 'Cancel a scheduled message that has not been released yet',
    scope: 'send',
    success: { status: 200, schema: cancelResultSchema, description: 'canceled' },
    errors: [...auth, 404, 409],
  },
  getBatch: {
    method: 'get',
    path: '/v1/batches/:id',
    operationId: 'getBatch',
    summary: 'A batch\'s progress and its messages counted by status',
    scope: 'read',
    success: { status: 200, schema: batchViewSchema, description: 'the batch' },
    errors: [...auth, 404],
  },
} as const satisfies Record<string, ApiRoute>;

/** Nest decorators take the path relative to the controller prefix. */
export const nestPath = (route: ApiRoute, prefix: string): string => route.path.slice(prefix.length).replace(/^\//, '');
