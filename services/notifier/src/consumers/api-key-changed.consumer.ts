import { Controller, Inject } from '@nestjs/common';
import { ApiKeyChangedV1, type ApiKeyChangedPayload } from '@sms/contracts';
import { OnEvents, type ConsumedEvent } from '@sms/nest-kafka';
import { ApiKeysRepository } from '../infra/api-keys.repository.js';

/** Keeps notifier's copy of ingest's API keys (compacted topic: a new group replays every key's last state). */
@Controller()
export class ApiKeyChangedConsumer {
  constructor(@Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository) {}

  @OnEvents(ApiKeyChangedV1)
  async onApiKeyChanged(batch: ConsumedEvent<ApiKeyChangedPayload>[]): Promise<void> {
    // The last state of each key in the batch wins (the topic is keyed, hence ordered, by key hash).
    const latest = new Map<string, ConsumedEvent<ApiKeyChangedPayload>>();
    for (const event of batch) latest.set(event.envelope.payload.keyHash, event);
    await this.keys.apply(
      [...latest.values()].map(({ envelope: { tenantId, payload: p } }) => ({
        keyHash: p.keyHash,
        tenantId,
        scopes: p.scopes,
        sandbox: p.sandbox,
        revokedAt: p.revokedAt ?? null,
        changedAt: p.changedAt,
      })),
    );
  }
}
