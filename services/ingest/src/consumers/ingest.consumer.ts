import { Controller, Inject } from '@nestjs/common';
import {
  SendRejectedV1,
  SendRequestedV1,
  StatusChangedV1,
  type SendRequestedPayload,
  type StatusChangedPayload,
} from '@sms/contracts';
import { OnEvents, type ConsumedEvent } from '@sms/nest-kafka';
import type { EventDraft, EventPublisher } from '@sms/kafka';
import { traceparentOf } from '@sms/telemetry';
import { AcceptMessagesService, type AcceptInput } from '../application/accept-messages.service.js';
import { validateSendRequest } from '../domain/send-request.js';
import { MessagesRepository } from '../infra/messages.repository.js';
import { TenantsRepository } from '../infra/tenants.repository.js';
import { INGEST_LIMITS } from '../http/messages.controller.js';

export const INGEST_PUBLISHER = Symbol('INGEST_PUBLISHER');

@Controller()
export class IngestConsumer {
  constructor(
    @Inject(AcceptMessagesService) private readonly accept: AcceptMessagesService,
    @Inject(MessagesRepository) private readonly messages: MessagesRepository,
    @Inject(TenantsRepository) private readonly tenants: TenantsRepository,
    @Inject(INGEST_PUBLISHER) private readonly publisher: EventPublisher,
    @Inject(INGEST_LIMITS) private readonly limits: { maxSegments: number },
  ) {}

  /**
   * Upstream send-requests: the same validation as the REST API; the event id is the idempotency key.
   * Invalid ones are answered on the rejected topic with reason codes; the partition moves on.
   */
  @OnEvents(SendRequestedV1)
  async onSendRequested(batch: ConsumedEvent<SendRequestedPayload>[]): Promise<void> {
    const seen = await this.messages.existingSourceEvents(batch.map((e) => ({ tenantId: e.envelope.tenantId, eventId: e.envelope.eventId })));
    const accepts: AcceptInput[] = [];
    const rejections: EventDraft<{ requestEventId: string; reasons: { field: string; code: string; message: string }[] }>[] = [];
    const inBatch = new Set<string>();
    const tenantCache = new Map<string, { sandbox: boolean } | undefined>();
    for (const event of batch) {
      const { tenantId, eventId } = event.envelope;
      const dedupeKey = `${tenantId}/${eventId}`;
      if (seen.has(dedupeKey) || inBatch.has(dedupeKey)) continue;
      inBatch.add(dedupeKey);
      if (!tenantCache.has(tenantId)) tenantCache.set(tenantId, await this.tenants.tenantExists(tenantId));
      const tenant = tenantCache.get(tenantId);
      const reject = (reasons: { field: string; code: string; message: string }[]) =>
        rejections.push({ tenantId, context: event.context, payload: { requestEventId: eventId, reasons } });
      if (!tenant) {
        reject([{ field: 'tenantId', code: 'unknown_tenant', message: `tenant ${tenantId} does not exist` }]);
        continue;
      }
      const validation = validateSendRequest(event.envelope.payload, this.limits);
      if (!validation.ok) {
        reject(validation.problems);
        continue;
      }
      accepts.push({
        tenantId,
        sandbox: tenant.sandbox,
        message: validation.value,
        source: 'kafka',
        sourceEventId: eventId,
        traceParent: traceparentOf(event.context),
      });
    }
    if (accepts.length > 0) await this.accept.accept(accepts);
    if (rejections.length > 0) await this.publisher.publish(SendRejectedV1, rejections);
  }

  /** Keeps the API's read model current. */
  @OnEvents(StatusChangedV1)
  async onStatusChanged(batch: ConsumedEvent<StatusChangedPayload>[]): Promise<void> {
    await this.messages.applyStatusUpdates(
      batch.map((e) => ({
        eventId: e.envelope.eventId,
        messageId: e.envelope.messageId!,
        tenantId: e.envelope.tenantId,
        status: e.envelope.payload.status,
        reason: e.envelope.payload.reason,
        carrierId: e.envelope.payload.carrierId,
        parts: e.envelope.payload.parts,
        sequence: e.envelope.payload.sequence,
        occurredAt: e.envelope.payload.changedAt,
      })),
    );
  }
}

export const ingestContracts = [SendRequestedV1, StatusChangedV1];
