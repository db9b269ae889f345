import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { METRICS_REGISTRY, OpsController, ReadinessRegistry, type ServiceRuntime } from '@sms/platform';
import { AcceptMessagesService } from './application/accept-messages.service.js';
import { IngestConsumer, INGEST_PUBLISHER } from './consumers/ingest.consumer.js';
import { ApiKeyGuard, AUTH_OPTIONS } from './http/auth.guard.js';
import { TenantRateLimiter } from './domain/rate-limiter.js';
import { BatchesController, INGEST_LIMITS, MessagesController, ROUTE_PREVIEW } from './http/messages.controller.js';
import { ProblemFilter } from './http/problem.js';
import { MessagesRepository } from './infra/messages.repository.js';
import type { RelayHandle } from './infra/outbox-relay-thread.js';
import type { RoutePreviewSource } from './infra/route-preview.source.js';
import { TenantsRepository } from './infra/tenants.repository.js';
import type { IngestConfig } from './config/ingest.config.js';
import { Histogram, latencyBuckets } from '@sms/telemetry';

@Module({})
export class IngestModule {
  static register(runtime: ServiceRuntime, config: IngestConfig, relay: RelayHandle, routePreview?: RoutePreviewSource): DynamicModule {
    const messages = new MessagesRepository(runtime.dataSource);
    const accept = new AcceptMessagesService(messages, config.DEFAULT_VALIDITY_SECONDS, () => relay.wake());
    const groupSeconds = new Histogram({
      name: 'ingest_group_commit_seconds',
      help: 'Group commits of single messages: time of the one insert statement',
      buckets: latencyBuckets,
      registers: [runtime.metrics],
    });
    const groupSize = new Histogram({
      name: 'ingest_group_commit_messages',
      help: 'Group commits of single messages: messages per group',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers: [runtime.metrics],
    });
    accept.onGroupCommitted = (size, seconds) => {
      groupSize.observe(size);
      groupSeconds.observe(seconds);
    };
    return {
      module: IngestModule,
      controllers: [OpsController, MessagesController, BatchesController, IngestConsumer],
      providers: [
        { provide: ReadinessRegistry, useValue: runtime.readiness },
        { provide: METRICS_REGISTRY, useValue: runtime.metrics },
        { provide: MessagesRepository, useValue: messages },
        { provide: TenantsRepository, useValue: new TenantsRepository(runtime.dataSource) },
        { provide: INGEST_PUBLISHER, useValue: runtime.publisher },
        { provide: INGEST_LIMITS, useValue: { maxSegments: config.MAX_SEGMENTS } },
        { provide: ROUTE_PREVIEW, useValue: routePreview ?? null },
        {
          provide: AcceptMessagesService,
          useValue: accept,
        },
        {
          provide: AUTH_OPTIONS,
          useValue: {
            positiveCacheMs: config.API_KEY_CACHE_MS,
            limiter: new TenantRateLimiter({ perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST }),
          },
        },
        ApiKeyGuard,
        { provide: APP_FILTER, useValue: new ProblemFilter(runtime.logger) },
      ],
    };
  }
}
