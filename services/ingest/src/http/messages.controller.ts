import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { traceparentOf } from '@sms/telemetry';
import { AcceptMessagesService, IdempotencyConflict } from '../application/accept-messages.service.js';
import { validateSendRequest } from '../domain/send-request.js';
import { MessagesRepository } from '../infra/messages.repository.js';
import { ApiKeyGuard, RequireScope, type AuthenticatedRequest } from './auth.guard.js';
import { problems } from './problem.js';
import { requestContext, requestSpan } from './tracing.js';

export const INGEST_LIMITS = Symbol('INGEST_LIMITS');
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Controller('v1/messages')
@UseGuards(ApiKeyGuard)
export class MessagesController {
  constructor(
    @Inject(AcceptMessagesService) private readonly accept: AcceptMessagesService,
    @Inject(MessagesRepository) private readonly messages: MessagesRepository,
    @Inject(INGEST_LIMITS) private readonly limits: { maxSegments: number },
  ) {}

  @Post()
  @HttpCode(202)
  @RequireScope('send')
  async send(@Req() request: AuthenticatedRequest, @Body() body: unknown, @Headers('idempotency-key') idempotencyKey?: string) {
    if (!/^application\/(.+\+)?json\b/i.test(request.headers['content-type'] ?? '')) throw problems.unsupportedMediaType();
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw problems.validation([{ field: '(body)', code: 'invalid_type', message: 'the body must be a JSON object' }]);
    }
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
      throw problems.validation([{ field: 'Idempotency-Key', code: 'invalid_header', message: 'must be 1 to 255 characters' }]);
    }
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
      [result] = await this.accept.accept([input]);
    }
    requestSpan(request)?.setAttributes({ 'sms.message_id': result!.id, 'sms.tenant_id': input.tenantId, 'sms.lane': validation.value.trafficClass });
    return result;
  }

  @Get(':id')
  @RequireScope('read')
  async get(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    if (!uuidPattern.test(id)) throw problems.notFound('message');
    const view = await this.messages.findForTenant(request.tenant.tenantId, id);
    if (!view) throw problems.notFound('message');
    return view;
  }

  @Delete(':id')
  @RequireScope('send')
  async cancel(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    if (!uuidPattern.test(id)) throw problems.notFound('message');
    const outcome = await this.messages.cancelScheduled(request.tenant.tenantId, id);
    if (outcome === 'not_found') throw problems.notFound('message');
    if (outcome === 'too_late') throw problems.conflict('only a scheduled message that has not been released can be canceled');
    return { id, status: 'canceled' };
  }
}
