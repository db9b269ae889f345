import { Controller, Inject } from '@nestjs/common';
import { AcceptedOtpV1, AcceptedPromotionalV1, AcceptedTransactionalV1, type AcceptedPayload } from '@sms/contracts';
import { OnEvents, type ConsumedEvent } from '@sms/nest-kafka';
import { MessageBodiesService } from '../application/message-bodies.service.js';

/**
 * The accepted lanes, read by notifier's own `notifier-bodies` group (not the status group), so a backlog
 * of accepted messages never delays a webhook. Only opted-in tenants' bodies are kept.
 */
@Controller()
export class AcceptedConsumer {
  constructor(@Inject(MessageBodiesService) private readonly bodies: MessageBodiesService) {}

  @OnEvents(AcceptedOtpV1)
  async onOtp(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    await this.bodies.store(batch);
  }

  @OnEvents(AcceptedTransactionalV1)
  async onTransactional(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    await this.bodies.store(batch);
  }

  @OnEvents(AcceptedPromotionalV1)
  async onPromotional(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    await this.bodies.store(batch);
  }
}
