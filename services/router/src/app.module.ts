import { Module, type DynamicModule } from '@nestjs/common';
import { METRICS_REGISTRY, OpsController, ReadinessRegistry, type ServiceRuntime } from '@sms/platform';
import { ComplianceService } from './application/compliance.service.js';
import { RoutingService } from './application/routing.service.js';
import type { TrafficClass } from '@sms/contracts';
import type { Registry } from '@sms/telemetry';
import { ComplianceController } from './http/compliance.controller.js';
import { ComplianceRepository } from './infra/compliance.repository.js';
import { HeldMessagesRepository } from './infra/held-messages.repository.js';
import type { QuietWindow } from './domain/quiet-hours.js';
import type { SenderPolicy } from './domain/sender-policy.js';
import { RoutingConsumer } from './consumers/routing.consumer.js';
import { ROUTER_ADMIN_TOKEN } from './http/admin-auth.js';
import { RoutesController } from './http/routes.controller.js';
import { CarrierHealthStore } from './infra/carrier-health.listener.js';
import { RouteConfigSource } from './infra/route-config.source.js';
import { RoutedMessagesRepository } from './infra/routed-messages.repository.js';

export interface RouterModuleDeps {
  routes: RouteConfigSource;
  health: CarrierHealthStore;
  adminToken?: string;
  optOutClasses: ReadonlySet<TrafficClass>;
  senders?: SenderPolicy;
  templateCountries?: ReadonlySet<string>;
  quiet?: { window: QuietWindow; text: string; classes: ReadonlySet<TrafficClass> };
  /** What /metrics serves, when it is more than the runtime's registry (the routing threads' metrics). */
  metrics?: Pick<Registry, 'metrics' | 'contentType'>;
}

@Module({})
export class RouterModule {
  static register(runtime: ServiceRuntime, deps: RouterModuleDeps): DynamicModule {
    return {
      module: RouterModule,
      controllers: [OpsController, RoutingConsumer, RoutesController, ComplianceController],
      providers: [
        { provide: ReadinessRegistry, useValue: runtime.readiness },
        { provide: METRICS_REGISTRY, useValue: deps.metrics ?? runtime.metrics },
        { provide: RouteConfigSource, useValue: deps.routes },
        { provide: CarrierHealthStore, useValue: deps.health },
        { provide: ROUTER_ADMIN_TOKEN, useValue: deps.adminToken },
        { provide: ComplianceRepository, useValue: new ComplianceRepository(runtime.dataSource) },
        {
          provide: ComplianceService,
          inject: [ComplianceRepository],
          useFactory: (repository: ComplianceRepository) => new ComplianceService(repository, runtime.logger, runtime.metrics),
        },
        {
          provide: RoutingService,
          inject: [ComplianceRepository],
          useFactory: (repository: ComplianceRepository) =>
            new RoutingService(
              () => deps.routes.current(),
              new RoutedMessagesRepository(runtime.dataSource),
              runtime.publisher,
              deps.health,
              { repository, optOutClasses: deps.optOutClasses, senders: deps.senders, templateCountries: deps.templateCountries },
              deps.quiet && { ...deps.quiet, held: new HeldMessagesRepository(runtime.dataSource) },
            ),
        },
      ],
    };
  }
}
