import { ApiKeyChangedV1, StatusChangedV1, type MessageStatus, type StatusChangedPayload } from '@sms/contracts';
import type { ConsumedEvent } from '@sms/kafka';
import { Counter, type Registry, traceparentOf } from '@sms/telemetry';
import { endpointOf } from '../domain/endpoint-gate.js';
import { buildWebhookPayload, webhookIdOf } from '../domain/webhook-payload.js';
import type { NewDelivery, WebhookDeliveriesRepository } from '../infra/webhook-deliveries.repository.js';

/** The tenant endpoints each status event is also sent to. */
export interface EndpointSource {
  forTenants(tenantIds: string[]): Promise<Map<string, { id: string; url: string }[]>>;
}

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
    private readonly endpoints: EndpointSource,
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
    const notified = batch.filter((event) => {
      if (this.statuses.has(event.envelope.payload.status)) return true;
      this.skipped.inc({ reason: 'status_not_notified' });
      return false;
    });
    if (notified.length === 0) return;
    // Read per batch (one indexed query), so an endpoint created a moment ago gets the next event.
    const endpoints = await this.endpoints.forTenants([...new Set(notified.map((e) => e.envelope.tenantId))]);
    const rows = new Map<string, NewDelivery>();
    for (const event of notified) {
      const { envelope } = event;
      const targets: { target: string; url: string }[] = [];
      if (envelope.payload.callbackUrl) targets.push({ target: 'callback', url: envelope.payload.callbackUrl });
      for (const endpoint of endpoints.get(envelope.tenantId) ?? []) targets.push({ target: endpoint.id, url: endpoint.url });
      if (targets.length === 0) {
        this.skipped.inc({ reason: 'no_target' });
        continue;
      }
      // One webhook-id per event across all its targets (Standard Webhooks: the id names the event).
      const webhookId = webhookIdOf(envelope.eventId);
      event.span.setAttribute('sms.webhook.id', webhookId);
      const payload = buildWebhookPayload(envelope);
      const traceParent = traceparentOf(event.context) ?? null;
      for (const { target, url } of targets) {
        // The same event twice in one batch is a redelivery: one row (the insert dedupes across batches).
        rows.set(`${webhookId}\u0000${target}`, {
          webhookId,
          target,
          tenantId: envelope.tenantId,
          messageId: envelope.messageId!,
          url,
          endpoint: endpointOf(url),
          payload,
          traceParent,
        });
      }
    }
    const inserted = await this.repository.insertNew([...rows.values()]);
    if (inserted > 0) {
      this.enqueued.inc(inserted);
      this.dispatcher.wake();
    }
  }
}

export const notifierContracts = [StatusChangedV1, ApiKeyChangedV1];
