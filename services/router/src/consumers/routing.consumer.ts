import { Controller, Inject } from '@nestjs/common';
import {
  AcceptedOtpV1,
  AcceptedPromotionalV1,
  AcceptedTransactionalV1,
  DispatchFailedOtpV1,
  DispatchFailedPromotionalV1,
  DispatchFailedTransactionalV1,
  MoReceivedV1,
  type AcceptedPayload,
  type DispatchFailedPayload,
  type MoReceivedPayload,
} from '@sms/contracts';
import { OnEvents, type ConsumedEvent } from '@sms/nest-kafka';
import { ComplianceService } from '../application/compliance.service.js';
import { RoutingService } from '../application/routing.service.js';

@Controller()
export class RoutingConsumer {
  constructor(
    @Inject(RoutingService) private readonly routing: RoutingService,
    @Inject(ComplianceService) private readonly compliance: ComplianceService,
  ) {}

  // One handler per lane: each lane topic is read by its own consumer group (see routerConsumerGroups).
  @OnEvents(AcceptedOtpV1)
  async onAcceptedOtp(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    await this.routing.routeAccepted(batch);
  }

  @OnEvents(AcceptedTransactionalV1)
  async onAcceptedTransactional(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    await this.routing.routeAccepted(batch);
  }

  @OnEvents(AcceptedPromotionalV1)
  async onAcceptedPromotional(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    await this.routing.routeAccepted(batch);
  }

  // Failover, one handler per lane as well (each lane's dispatch-failed topic has its own group).
  @OnEvents(DispatchFailedOtpV1)
  async onDispatchFailedOtp(batch: ConsumedEvent<DispatchFailedPayload>[]): Promise<void> {
    await this.routing.handleDispatchFailed(batch);
  }

  @OnEvents(DispatchFailedTransactionalV1)
  async onDispatchFailedTransactional(batch: ConsumedEvent<DispatchFailedPayload>[]): Promise<void> {
    await this.routing.handleDispatchFailed(batch);
  }

  @OnEvents(DispatchFailedPromotionalV1)
  async onDispatchFailedPromotional(batch: ConsumedEvent<DispatchFailedPayload>[]): Promise<void> {
    await this.routing.handleDispatchFailed(batch);
  }

  @OnEvents(MoReceivedV1)
  async onMoReceived(batch: ConsumedEvent<MoReceivedPayload>[]): Promise<void> {
    await this.compliance.handleMo(batch);
  }
}
