import { loadGatewayFile } from '@sms/config';
import { DispatchOtpV1, DispatchPromotionalV1, DispatchTransactionalV1 } from '@sms/contracts';
import { createServiceRuntime, runNestService } from '@sms/platform';
import { Counter } from '@sms/telemetry';
import { CarrierDispatchModule } from './app.module.js';
import { loadCarrierDispatchConfig } from './config/carrier-dispatch.config.js';
import { CarrierRegistry } from './infra/carrier-registry.js';
import { CarrierDispatchInit1764000000000 } from './infra/migrations/1764000000000-carrier-dispatch-init.js';
import { ReceiptForwarder } from './infra/receipt-forwarder.js';

const config = loadCarrierDispatchConfig();
const gatewayFile = loadGatewayFile(config.GATEWAY_CONFIG_FILE);
const runtime = await createServiceRuntime('carrier-dispatch', config, {
  schema: 'carrier_dispatch',
  migrations: [CarrierDispatchInit1764000000000],
});

const forwarded = new Counter({
  name: 'carrier_inbound_forwarded_total',
  help: 'Receipts and mobile-originated messages published, by kind',
  labelNames: ['kind'],
  registers: [runtime.metrics],
});
const receipts = new ReceiptForwarder(runtime.publisher, runtime.logger, config.RECEIPT_FLUSH_MS);
receipts.onForwarded = (kind, count) => forwarded.inc({ kind }, count);

const carriers = new CarrierRegistry(
  gatewayFile,
  {
    errorThresholdPercentage: config.BREAKER_ERROR_PERCENT,
    volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
    resetTimeout: config.BREAKER_RESET_MS,
  },
  runtime.publisher,
  runtime.logger,
  runtime.metrics,
  (carrierId, deliver) => receipts.accept(carrierId, deliver),
);
carriers.start();
await carriers.waitForBinds(10000);
for (const route of carriers.all()) {
  // A carrier that cannot bind shows in readiness detail, but does not make the service unready:
  // the other carriers keep working and the router fails over.
  runtime.readiness.register({
    name: `carrier:${route.name}`,
    optional: true,
    check: async () => (route.bindsUp > 0 ? `binds ${route.bindsUp}/${route.bindsTotal}, breaker ${route.state}` : false),
  });
}

const prefix = config.KAFKA_GROUP_PREFIX;
await runNestService(
  runtime,
  CarrierDispatchModule.register(runtime, carriers),
  { port: config.HTTP_PORT, host: config.HTTP_HOST },
  [
    { groupId: `${prefix}.carrier-dispatch.otp`, contracts: [DispatchOtpV1], maxBatchSize: 200 },
    { groupId: `${prefix}.carrier-dispatch.transactional`, contracts: [DispatchTransactionalV1] },
    { groupId: `${prefix}.carrier-dispatch.promotional`, contracts: [DispatchPromotionalV1] },
  ],
  async () => {
    await carriers.stop();
    await receipts.flush();
  },
);
