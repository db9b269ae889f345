import { Controller, Inject } from '@nestjs/common';
import { DlrReceivedV1, SubmittedV1, type DlrReceivedPayload, type SubmittedPayload } from '@sms/contracts';
import { OnEvents, type ConsumedEvent } from '@sms/nest-kafka';
import { DeliveryTracker } from '../application/delivery-tracker.service.js';

/** Both topics in one consumer group: a receipt and its submitted event are correlated by one service. */
@Controller()
export class DeliveryConsumer {
  constructor(@Inject(DeliveryTracker) private readonly tracker: DeliveryTracker) {}

  @OnEvents(SubmittedV1)
  async onSubmitted(batch: ConsumedEvent<SubmittedPayload>[]): Promise<void> {
    await this.tracker.onSubmitted(batch);
  }

  @OnEvents(DlrReceivedV1)
  async onDlrReceived(batch: ConsumedEvent<DlrReceivedPayload>[]): Promise<void> {
    await this.tracker.onReceipts(batch);
  }
}
