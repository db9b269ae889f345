import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { METRICS_REGISTRY, OpsController, ReadinessRegistry, type ServiceRuntime } from '@sms/platform';
import { MessageBodiesService } from './application/message-bodies.service.js';
import { WebhookEnqueueService } from './application/webhook-enqueue.service.js';
import type { WebhookDispatcher } from './application/webhook-dispatcher.js';
import type { NotifierConfig } from './config/notifier.config.js';
import { AcceptedConsumer } from './consumers/accepted.consumer.js';
import { ApiKeyChangedConsumer } from './consumers/api-key-changed.consumer.js';
import { StatusChangedConsumer } from './consumers/status-changed.consumer.js';
import { ApiKeyGuard } from './http/api-key.guard.js';
import { ProblemFilter } from './http/problem.js';
import { WEBHOOK_API_OPTIONS, WebhooksController, type WebhookApiOptions } from './http/webhooks.controller.js';
import { ApiKeysRepository } from './infra/api-keys.repository.js';
import { WebhookDeliveriesRepository } from './infra/webhook-deliveries.repository.js';
import { WebhookEndpointsRepository } from './infra/webhook-endpoints.repository.js';
import { WebhookSecretsRepository } from './infra/webhook-secrets.repository.js';
import { WebhookSettingsRepository } from './infra/webhook-settings.repository.js';
import { systemResolver } from './infra/webhook-http.js';

@Module({})
export class NotifierModule {
  static register(runtime: ServiceRuntime, config: NotifierConfig, dispatcher: WebhookDispatcher): DynamicModule {
    const endpoints = new WebhookEndpointsRepository(runtime.dataSource);
    const settings = new WebhookSettingsRepository(runtime.dataSource);
    const apiOptions: WebhookApiOptions = {
      mode: config.GATEWAY_MODE,
      resolver: systemResolver,
      rotationOverlapMs: config.WEBHOOK_SECRET_ROTATION_OVERLAP_S * 1000,
      maxEndpointsPerTenant: config.WEBHOOK_MAX_ENDPOINTS_PER_TENANT,
      dispatcher,
    };
    return {
      module: NotifierModule,
      controllers: [OpsController, StatusChangedConsumer, ApiKeyChangedConsumer, AcceptedConsumer, WebhooksController],
      providers: [
        { provide: ReadinessRegistry, useValue: runtime.readiness },
        { provide: METRICS_REGISTRY, useValue: runtime.metrics },
        { provide: APP_FILTER, useValue: new ProblemFilter(runtime.logger) },
        { provide: ApiKeysRepository, useValue: new ApiKeysRepository(runtime.dataSource) },
        { provide: WebhookEndpointsRepository, useValue: endpoints },
        { provide: WebhookSecretsRepository, useValue: new WebhookSecretsRepository(runtime.dataSource) },
        { provide: WebhookSettingsRepository, useValue: settings },
        { provide: MessageBodiesService, useValue: new MessageBodiesService(settings, runtime.metrics) },
        { provide: WEBHOOK_API_OPTIONS, useValue: apiOptions },
        ApiKeyGuard,
        {
          provide: WebhookEnqueueService,
          useFactory: () =>
            new WebhookEnqueueService(new WebhookDeliveriesRepository(runtime.dataSource), dispatcher, endpoints, config.WEBHOOK_STATUSES, runtime.metrics),
        },
      ],
    };
  }
}
