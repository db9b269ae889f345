import { Module, type DynamicModule } from '@nestjs/common';
import { METRICS_REGISTRY, OpsController, ReadinessRegistry, type ServiceRuntime } from '@sms/platform';
import { ComplianceService } from './application/compliance.service.js';
import { RoutingService } from './application/routing.service.js';
import { createRoutingService } from './application/routing-service.factory.js';
import type { RoutingPolicy } from './config/routing-policy.js';
import type { Registry } from '@sms/telemetry';
import { ComplianceController } from './http/compliance.controller.js';
import { ComplianceRepository } from './infra/compliance.repository.js';
import { RoutingConsumer } from './consumers/routing.consumer.js';
import { ROUTER_ADMIN_TOKEN } from './http/admin-auth.js';
import { RoutesController } from './http/routes.controller.js';
import { CarrierHealthStore } from './infra/carrier-health.listener.js';
import { RouteConfigSource } from './infra/route-config.source.js';

export interface RouterModuleDeps extends RoutingPolicy {
  routes: RouteConfigSource;
  health: CarrierHealthStore;
  adminToken?: string;
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
          useFactory: (compliance: ComplianceRepository) =>
            createRoutingService({
              dataSource: runtime.dataSource,
              publisher: runtime.publisher,
              routes: () => deps.routes.current(),
              health: deps.health,
              policy: deps,
              compliance,
            }),
        },
      ],
    };
  }
}
