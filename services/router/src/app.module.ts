import { Module, type DynamicModule } from '@nestjs/common';
import { METRICS_REGISTRY, OpsController, ReadinessRegistry, type ServiceRuntime } from '@sms/platform';
import { RoutingService } from './application/routing.service.js';
import { RoutingConsumer } from './consumers/routing.consumer.js';
import type { RouteTable } from './domain/route-table.js';
import { RoutedMessagesRepository } from './infra/routed-messages.repository.js';

@Module({})
export class RouterModule {
  static register(runtime: ServiceRuntime, routes: () => RouteTable): DynamicModule {
    return {
      module: RouterModule,
      controllers: [OpsController, RoutingConsumer],
      providers: [
        { provide: ReadinessRegistry, useValue: runtime.readiness },
        { provide: METRICS_REGISTRY, useValue: runtime.metrics },
        {
          provide: RoutingService,
          useFactory: () => new RoutingService(routes, new RoutedMessagesRepository(runtime.dataSource), runtime.publisher),
        },
      ],
    };
  }
}
