import { StatusChangedV1, type MessageStatus, type StatusChangedPayload } from '@sms/contracts';
import type { ConsumedEvent } from '@sms/kafka';
import { Counter, type Registry, traceparentOf } from '@sms/telemetry';
import { endpointOf } from '../domain/endpoint-gate.js';
import { buildWebhookPayload, webhookIdOf } from '../domain/webhook-payload.js';
import type { NewDelivery, WebhookDeliveriesRepository } from '../infra/webhook-deliveries.repository.js';

/** Anything the consumer can wake once new rows are in the table. */
export interface Wakeable {
  wake(): void;
}

/**
 * The consumer side: turns status events into queued deliveries and nothing more. No HTTP happens here,
 * so a slow or dead receiver can never hold back the partition (the dispatcher does the POSTs).
 */
export class WebhookEnqueueService {
  private readonly enqueued: Counter;
  private readonly skipped: Counter;

  constructor(
    private readonly repository: WebhookDeliveriesRepository,
    private readonly dispatcher: Wakeable,
    private readonly statuses: ReadonlySet<MessageStatus>,
    metrics: Registry,
  ) {
    this.enqueued = new Counter({
      name: 'webhook_deliveries_enqueued_total',
      help: 'Webhook deliveries queued from status events (redeliveries not counted)',
      registers: [metrics],
    });
    this.skipped = new Counter({
      name: 'webhook_events_skipped_total',
      help: 'Status events that produce no webhook, by reason',
      labelNames: ['reason'],
      registers: [metrics],
    });
  }

  async enqueue(batch: ConsumedEvent<StatusChangedPayload>[]): Promise<void> {
    const rows = new Map<string, NewDelivery>();
    for (const event of batch) {
      const { envelope } = event;
      if (!this.statuses.has(envelope.payload.status)) {
        this.skipped.inc({ reason: 'status_not_notified' });
        continue;
      }
      const url = envelope.payload.callbackUrl;
      if (!url) {
        this.skipped.inc({ reason: 'no_callback_url' });
        continue;
      }
      const webhookId = webhookIdOf(envelope.eventId);
      event.span.setAttribute('sms.webhook.id', webhookId);
      // The same event twice in one batch is a redelivery: one row (the insert dedupes across batches).
      rows.set(webhookId, {
        webhookId,
        target: 'callback',
        tenantId: envelope.tenantId,
        messageId: envelope.messageId!,
        url,
        endpoint: endpointOf(url),
        payload: buildWebhookPayload(envelope),
        traceParent: traceparentOf(event.context) ?? null,
      });
    }
    const inserted = await this.repository.insertNew([...rows.values()]);
    if (inserted > 0) {
      this.enqueued.inc(inserted);
      this.dispatcher.wake();
    }
  }
}

export const notifierContracts = [StatusChangedV1];
