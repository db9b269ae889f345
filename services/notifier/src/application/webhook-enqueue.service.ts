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

/** The dispatcher as the consumer sees it: queued rows wake it; fresh ones it may send at once. */
export interface DirectSender extends Wakeable {
  acceptsDirect(): boolean;
  /** Resolves once every webhook is delivered-and-recorded or durably queued (see WebhookDispatcher). */
  deliverNow(rows: NewDelivery[]): Promise<void>;
}

/**
 * The consumer side: turns status events into deliveries. Fresh webhooks go to the dispatcher's direct
 * path (POSTed at once, written in one statement after their attempt, the wait bounded so a slow receiver
 * holds the partition for at most the direct wait); redelivered events (already in the table) are not sent
 * again, and the webhooks of tenants that opted in to bodies are queued (the body may trail the status).
 */
export class WebhookEnqueueService {
  private readonly enqueued: Counter;
  private readonly skipped: Counter;

  constructor(
    private readonly repository: WebhookDeliveriesRepository,
    private readonly dispatcher: DirectSender,
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
    const all = [...rows.values()];
    if (!this.dispatcher.acceptsDirect()) {
      await this.queue(all);
      return;
    }
    const { known, optedIn } = await this.repository.directCheck(all, [...new Set(all.map((r) => r.tenantId))]);
    const fresh = all.filter((r) => !known.has(`${r.webhookId}\u0000${r.target}`));
    const direct = fresh.filter((r) => !optedIn.has(r.tenantId));
    this.enqueued.inc(direct.length);
    // Both settle before a failure is thrown: a retry of the batch must not overlap its own direct POSTs.
    const settled = await Promise.allSettled([this.queue(fresh.filter((r) => optedIn.has(r.tenantId))), this.dispatcher.deliverNow(direct)]);
    for (const result of settled) if (result.status === 'rejected') throw result.reason;
  }

  private async queue(rows: NewDelivery[]): Promise<void> {
    const inserted = await this.repository.insertNew(rows);
    if (inserted > 0) {
      this.enqueued.inc(inserted);
      this.dispatcher.wake();
    }
  }
}

export const notifierContracts = [StatusChangedV1, ApiKeyChangedV1];
