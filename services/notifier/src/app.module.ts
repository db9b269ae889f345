import { Module, type DynamicModule } from '@nestjs/common';
import { METRICS_REGISTRY, OpsController, ReadinessRegistry, type ServiceRuntime } from '@sms/platform';
import { WebhookEnqueueService } from './application/webhook-enqueue.service.js';
import type { WebhookDispatcher } from './application/webhook-dispatcher.js';
import type { NotifierConfig } from './config/notifier.config.js';
import { StatusChangedConsumer } from './consumers/status-changed.consumer.js';
import { WebhookDeliveriesRepository } from './infra/webhook-deliveries.repository.js';

@Module({})
export class NotifierModule {
  static register(runtime: ServiceRuntime, config: NotifierConfig, dispatcher: WebhookDispatcher): DynamicModule {
    return {
      module: NotifierModule,
      controllers: [OpsController, StatusChangedConsumer],
      providers: [
        { provide: ReadinessRegistry, useValue: runtime.readiness },
        { provide: METRICS_REGISTRY, useValue: runtime.metrics },
        {
          provide: WebhookEnqueueService,
          useFactory: () =>
            new WebhookEnqueueService(new WebhookDeliveriesRepository(runtime.dataSource), dispatcher, config.WEBHOOK_STATUSES, runtime.metrics),
        },
      ],
    };
  }
}
