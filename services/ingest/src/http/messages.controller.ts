import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { traceparentOf } from '@sms/telemetry';
import { AcceptMessagesService, IdempotencyConflict, type AcceptInput, type AcceptedMessage } from '../application/accept-messages.service.js';
import { validateBatchRequest } from '../domain/batch-request.js';
import { validateSendRequest, type FieldProblem } from '../domain/send-request.js';
import { MessagesRepository } from '../infra/messages.repository.js';
import type { RoutePreviewSource } from '../infra/route-preview.source.js';
import { apiRoutes, messageListQuerySchema, nestPath } from './api-routes.js';
import { ApiKeyGuard, RequireScope, type AuthenticatedRequest } from './auth.guard.js';
import { problems } from './problem.js';
import { requestContext, requestSpan } from './tracing.js';

export const INGEST_LIMITS = Symbol('INGEST_LIMITS');
export const ROUTE_PREVIEW = Symbol('ROUTE_PREVIEW');
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireJsonObject(request: AuthenticatedRequest, body: unknown): asserts body is Record<string, unknown> {
  if (!/^application\/(.+\+)?json\b/i.test(request.headers['content-type'] ?? '')) throw problems.unsupportedMediaType();
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw problems.validation([{ field: '(body)', code: 'invalid_type', message: 'the body must be a JSON object' }]);
  }
}

function checkIdempotencyKey(key: string | undefined): void {
  if (key !== undefined && (key.length === 0 || key.length > 255)) {
    throw problems.validation([{ field: 'Idempotency-Key', code: 'invalid_header', message: 'must be 1 to 255 characters' }]);
  }
}

const encodeCursor = (m: { createdAt: string; id: string }) => Buffer.from(`${m.createdAt}|${m.id}`).toString('base64url');
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !uuidPattern.test(id)) {
    throw problems.validation([{ field: 'cursor', code: 'invalid_cursor', message: 'pass the nextCursor of a previous page' }]);
  }
  return { createdAt, id };
}

const MESSAGES = '/v1/messages';

@Controller(MESSAGES.slice(1))
@UseGuards(ApiKeyGuard)
export class MessagesController {
  constructor(
    @Inject(AcceptMessagesService) private readonly accept: AcceptMessagesService,
    @Inject(MessagesRepository) private readonly messages: MessagesRepository,
    @Inject(INGEST_LIMITS) private readonly limits: { maxSegments: number },
    @Inject(ROUTE_PREVIEW) private readonly routes: RoutePreviewSource | null,
  ) {}

  @Post(nestPath(apiRoutes.sendMessage, MESSAGES))
  @HttpCode(apiRoutes.sendMessage.success.status)
  @RequireScope(apiRoutes.sendMessage.scope)
  async send(@Req() request: AuthenticatedRequest, @Body() body: unknown, @Headers('idempotency-key') idempotencyKey?: string) {
    requireJsonObject(request, body);
    checkIdempotencyKey(idempotencyKey);
    const validation = validateSendRequest(body, this.limits);
    if (!validation.ok) throw problems.validation(validation.problems);
    const ctx = requestContext(request);
    const input = {
      tenantId: request.tenant.tenantId,
      sandbox: request.tenant.sandbox,
      message: validation.value,
      source: 'api' as const,
      traceParent: ctx ? traceparentOf(ctx) : undefined,
    };
    let result;
    if (idempotencyKey) {
      try {
        result = (await this.accept.acceptIdempotent(input, idempotencyKey, body)).message;
      } catch (error) {
        if (error instanceof IdempotencyConflict) throw problems.idempotencyMismatch();
        throw error;
      }
    } else {
      result = await this.accept.acceptOne(input);
    }
    requestSpan(request)?.setAttributes({ 'sms.message_id': result.id, 'sms.tenant_id': input.tenantId, 'sms.lane': validation.value.trafficClass });
    return result;
  }

  @Post(nestPath(apiRoutes.sendBatch, MESSAGES))
  @HttpCode(apiRoutes.sendBatch.success.status)
  @RequireScope(apiRoutes.sendBatch.scope)
  async sendBatch(@Req() request: AuthenticatedRequest, @Body() body: unknown, @Headers('idempotency-key') idempotencyKey?: string) {
    requireJsonObject(request, body);
    checkIdempotencyKey(idempotencyKey);
    const validation = validateBatchRequest(body, this.limits);
    if (!validation.ok) throw problems.validation(validation.problems);
    const ctx = requestContext(request);
    const traceParent = ctx ? traceparentOf(ctx) : undefined;
    const batchId = randomUUID();
    const inputs: AcceptInput[] = [];
    const accepted: number[] = [];
    const rejected: { index: number; status: 'rejected'; errors: FieldProblem[] }[] = [];
    for (const outcome of validation.recipients) {
      if (outcome.ok) {
        accepted.push(outcome.index);
        inputs.push({ tenantId: request.tenant.tenantId, sandbox: request.tenant.sandbox, message: outcome.value, source: 'api', traceParent });
      } else {
        rejected.push({ index: outcome.index, status: 'rejected', errors: outcome.problems });
      }
    }
    const respond = (results: AcceptedMessage[]) => {
      const merged: unknown[] = new Array(validation.recipients.length);
      results.forEach((r, i) => (merged[accepted[i]!] = { index: accepted[i]!, status: r.status, id: r.id, encoding: r.encoding, segments: r.segments }));
      for (const r of rejected) merged[r.index] = r;
      return { batchId, recipients: validation.recipients.length, accepted: results.length, rejected: rejected.length, results: merged };
    };
    let outcome;
    try {
      outcome = await this.accept.acceptBatch(
        { id: batchId, tenantId: request.tenant.tenantId, recipients: validation.recipients.length, rejected: rejected.length },
        inputs,
        respond,
        idempotencyKey ? { key: idempotencyKey, rawRequest: body } : undefined,
      );
    } catch (error) {
      if (error instanceof IdempotencyConflict) throw problems.idempotencyMismatch();
      throw error;
    }
    requestSpan(request)?.setAttributes({ 'sms.batch_id': outcome.response.batchId, 'sms.tenant_id': request.tenant.tenantId });
    return outcome.response;
  }

  @Post(nestPath(apiRoutes.previewMessage, MESSAGES))
  @HttpCode(apiRoutes.previewMessage.success.status)
  @RequireScope(apiRoutes.previewMessage.scope)
  preview(@Req() request: AuthenticatedRequest, @Body() body: unknown) {
    requireJsonObject(request, body);
    const validation = validateSendRequest(body, this.limits);
    if (!validation.ok) throw problems.validation(validation.problems);
    const m = validation.value;
    const sandbox = request.tenant.sandbox;
    const route = this.routes?.preview({ to: m.to, from: m.from, trafficClass: m.trafficClass, tenantId: request.tenant.tenantId, sandbox }) ?? null;
    return { to: m.to, from: m.from, trafficClass: m.trafficClass, lane: m.trafficClass, encoding: m.encoding, segments: m.segments, sandbox, route };
  }

  @Get(nestPath(apiRoutes.listMessages, MESSAGES))
  @RequireScope(apiRoutes.listMessages.scope)
  async list(@Req() request: AuthenticatedRequest, @Query() query: unknown) {
    const parsed = messageListQuerySchema.safeParse(query ?? {});
    if (!parsed.success) {
      throw problems.validation(
        parsed.error.issues.flatMap((issue) =>
          issue.code === 'unrecognized_keys'
            ? issue.keys.map((key) => ({ field: key, code: 'unknown_field', message: 'unknown query parameter' }))
            : [{ field: issue.path.join('.') || '(query)', code: issue.code, message: issue.message }],
        ),
      );
    }
    const q = parsed.data;
    const items = await this.messages.list(request.tenant.tenantId, {
      status: q.status,
      createdFrom: q.createdFrom,
      createdTo: q.createdTo,
      reference: q.reference,
      batchId: q.batchId,
      limit: q.limit,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
    });
    return { items, nextCursor: items.length === q.limit ? encodeCursor(items[items.length - 1]!) : null };
  }

  @Get(nestPath(apiRoutes.getMessage, MESSAGES))
  @RequireScope(apiRoutes.getMessage.scope)
  async get(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    if (!uuidPattern.test(id)) throw problems.notFound('message');
    const view = await this.messages.findForTenant(request.tenant.tenantId, id);
    if (!view) throw problems.notFound('message');
    return view;
  }

  @Delete(nestPath(apiRoutes.cancelMessage, MESSAGES))
  @RequireScope(apiRoutes.cancelMessage.scope)
  async cancel(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    if (!uuidPattern.test(id)) throw problems.notFound('message');
    const outcome = await this.messages.cancelScheduled(request.tenant.tenantId, id);
    if (outcome === 'not_found') throw problems.notFound('message');
    if (outcome === 'too_late') throw problems.conflict('only a scheduled message that has not been released can be canceled');
    return { id, status: 'canceled' };
  }
}

const BATCHES = '/v1/batches';

@Controller(BATCHES.slice(1))
@UseGuards(ApiKeyGuard)
export class BatchesController {
  constructor(@Inject(MessagesRepository) private readonly messages: MessagesRepository) {}

  @Get(nestPath(apiRoutes.getBatch, BATCHES))
  @RequireScope(apiRoutes.getBatch.scope)
  async get(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    if (!uuidPattern.test(id)) throw problems.notFound('batch');
    const view = await this.messages.findBatch(request.tenant.tenantId, id);
    if (!view) throw problems.notFound('batch');
    return view;
  }
}
