import { Controller, Inject } from '@nestjs/common';
import { DispatchOtpV1, DispatchPromotionalV1, DispatchTransactionalV1, type DispatchPayload } from '@sms/contracts';
import { OnEvents, type ConsumedEvent } from '@sms/nest-kafka';
import { DispatchService } from '../application/dispatch.service.js';

/** One handler per lane; each lane is its own consumer group, so a promotional backlog never delays OTP. */
@Controller()
export class DispatchConsumer {
  constructor(@Inject(DispatchService) private readonly dispatch: DispatchService) {}

  @OnEvents(DispatchOtpV1)
  async onOtp(batch: ConsumedEvent<DispatchPayload>[]): Promise<void> {
    await this.dispatch.dispatch(batch);
  }

  @OnEvents(DispatchTransactionalV1)
  async onTransactional(batch: ConsumedEvent<DispatchPayload>[]): Promise<void> {
    await this.dispatch.dispatch(batch);
  }

  @OnEvents(DispatchPromotionalV1)
  async onPromotional(batch: ConsumedEvent<DispatchPayload>[]): Promise<void> {
    await this.dispatch.dispatch(batch);
  }
}
