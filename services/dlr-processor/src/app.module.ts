import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { METRICS_REGISTRY, OpsController, ReadinessRegistry, type ServiceRuntime } from '@sms/platform';
import { DeliveryTracker } from './application/delivery-tracker.service.js';
import { ExpirySweeper } from './application/expiry-sweeper.js';
import type { DlrProcessorConfig } from './config/dlr-processor.config.js';
import { DeliveryConsumer } from './consumers/delivery.consumer.js';
import { DlrMetrics } from './infra/dlr.metrics.js';
import { DlrStore } from './infra/dlr.repository.js';
import { CARRIER_RECEIPTS_OPTIONS, CarrierReceiptsController, type CarrierReceiptsOptions } from './http/carrier-receipts.controller.js';
import { ProblemFilter } from './http/problem.js';

/** Ties the sweeper's timer to the app's lifecycle, so `app.close()` stops it before the database closes. */
@Injectable()
class SweeperLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(ExpirySweeper) private readonly sweeper: ExpirySweeper) {}

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
  }
}

@Module({})
export class DlrProcessorModule {
  static register(runtime: ServiceRuntime, config: DlrProcessorConfig): DynamicModule {
    const store = new DlrStore(runtime.dataSource);
    const metrics = new DlrMetrics(runtime.metrics, () => store.repository.pendingCounts());
    return {
      module: DlrProcessorModule,
      controllers: [OpsController, DeliveryConsumer, CarrierReceiptsController],
      providers: [
        { provide: ReadinessRegistry, useValue: runtime.readiness },
        { provide: METRICS_REGISTRY, useValue: runtime.metrics },
        { provide: APP_FILTER, useValue: new ProblemFilter(runtime.logger) },
        {
          provide: CARRIER_RECEIPTS_OPTIONS,
          useValue: {
            secrets: config.DLR_HTTP_CARRIER_SECRETS,
            toleranceS: config.DLR_HTTP_SIGNATURE_TOLERANCE_S,
            publisher: runtime.publisher,
            metrics: runtime.metrics,
            logger: runtime.logger,
          } satisfies CarrierReceiptsOptions,
        },
        {
          provide: DeliveryTracker,
          useFactory: () => new DeliveryTracker(store, runtime.publisher, metrics, runtime.logger),
        },
        {
          provide: ExpirySweeper,
          useFactory: () =>
            new ExpirySweeper(store, runtime.publisher, metrics, runtime.logger, {
              intervalMs: config.DLR_SWEEP_INTERVAL_MS,
              graceMs: config.DLR_EXPIRY_GRACE_MS,
              pendingReceiptTtlMs: config.DLR_PENDING_RECEIPT_TTL_MS,
              batchSize: config.DLR_SWEEP_BATCH_SIZE,
            }),
        },
        SweeperLifecycle,
      ],
    };
  }
}
