import { Controller, Inject } from '@nestjs/common';
import { StatusChangedV1, type StatusChangedPayload } from '@sms/contracts';
import { OnEvents, type ConsumedEvent } from '@sms/nest-kafka';
import { WebhookEnqueueService } from '../application/webhook-enqueue.service.js';

@Controller()
export class StatusChangedConsumer {
  constructor(@Inject(WebhookEnqueueService) private readonly webhooks: WebhookEnqueueService) {}

  @OnEvents(StatusChangedV1)
  async onStatusChanged(batch: ConsumedEvent<StatusChangedPayload>[]): Promise<void> {
    await this.webhooks.enqueue(batch);
  }
}
