import { Controller, Inject } from '@nestjs/common';
import { AcceptedV1, DispatchFailedV1, type AcceptedPayload, type DispatchFailedPayload } from '@sms/contracts';
import { OnEvents, type ConsumedEvent } from '@sms/nest-kafka';
import { RoutingService } from '../application/routing.service.js';

@Controller()
export class RoutingConsumer {
  constructor(@Inject(RoutingService) private readonly routing: RoutingService) {}

  @OnEvents(AcceptedV1)
  async onAccepted(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    await this.routing.routeAccepted(batch);
  }

  @OnEvents(DispatchFailedV1)
  async onDispatchFailed(batch: ConsumedEvent<DispatchFailedPayload>[]): Promise<void> {
    await this.routing.handleDispatchFailed(batch);
  }
}
