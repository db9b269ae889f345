import type { AcceptedPayload } from '@sms/contracts';
import type { ConsumedEvent } from '@sms/kafka';
import { Counter, type Registry } from '@sms/telemetry';
import type { WebhookSettingsRepository } from '../infra/webhook-settings.repository.js';

/**
 * Keeps the body of each accepted message whose tenant opted in to bodies in webhooks, and nothing of
 * any other message. The accepted events also carry the recipient's number: it is never read here,
 * never stored, never logged. Everything else in the event is dropped once the batch is handled.
 */
export class MessageBodiesService {
  private readonly stored: Counter;

  constructor(
    private readonly settings: Pick<WebhookSettingsRepository, 'optedIn' | 'storeBodies'>,
    metrics: Registry,
  ) {
    this.stored = new Counter({
      name: 'webhook_bodies_stored_total',
      help: 'Message bodies kept for tenants that opted in to bodies in webhooks',
      registers: [metrics],
    });
  }

  async store(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    if (batch.length === 0) return;
    // One indexed query per batch: for the usual tenant (not opted in) the batch ends here.
    const optedIn = await this.settings.optedIn([...new Set(batch.map((e) => e.envelope.tenantId))]);
    if (optedIn.size === 0) return;
    const rows = batch
      .filter((e) => optedIn.has(e.envelope.tenantId) && e.envelope.messageId)
      .map((e) => ({ messageId: e.envelope.messageId!, tenantId: e.envelope.tenantId, body: e.envelope.payload.body }));
    const inserted = await this.settings.storeBodies(rows);
    if (inserted > 0) this.stored.inc(inserted);
  }
}
