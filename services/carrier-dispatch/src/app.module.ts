import { Module, type DynamicModule } from '@nestjs/common';
import { METRICS_REGISTRY, OpsController, ReadinessRegistry, type ServiceRuntime } from '@sms/platform';
import { DispatchService } from './application/dispatch.service.js';
import { DispatchConsumer } from './consumers/dispatch.consumer.js';
import type { CarrierRegistry } from './infra/carrier-registry.js';
import type { RetryScheduler } from './infra/retry-scheduler.js';
import type { RetrySettings } from './domain/retry-policy.js';
import type { DispatchHooks } from './application/dispatch.service.js';
import { SubmitLedgerRepository } from './infra/submit-ledger.repository.js';

@Module({})
export class CarrierDispatchModule {
  static register(
    runtime: ServiceRuntime,
    carriers: CarrierRegistry,
    retries: { scheduler: RetryScheduler; settings: RetrySettings; hooks?: DispatchHooks },
  ): DynamicModule {
    return {
      module: CarrierDispatchModule,
      controllers: [OpsController, DispatchConsumer],
      providers: [
        { provide: ReadinessRegistry, useValue: runtime.readiness },
        { provide: METRICS_REGISTRY, useValue: runtime.metrics },
        {
          provide: DispatchService,
          useValue: new DispatchService(
            carriers,
            new SubmitLedgerRepository(runtime.dataSource),
            runtime.publisher,
            retries.scheduler,
            retries.settings,
            retries.hooks,
          ),
        },
      ],
    };
  }
}
