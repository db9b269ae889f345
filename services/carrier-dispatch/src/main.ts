import { loadGatewayFile } from '@sms/config';
import { DispatchOtpV1, DispatchPromotionalV1, DispatchTransactionalV1 } from '@sms/contracts';
import { createServiceRuntime, runNestService } from '@sms/platform';
import { Counter } from '@sms/telemetry';
import { CarrierDispatchModule } from './app.module.js';
import { loadCarrierDispatchConfig } from './config/carrier-dispatch.config.js';
import { CarrierRegistry } from './infra/carrier-registry.js';
import { CarrierDispatchInit1764000000000 } from './infra/migrations/1764000000000-carrier-dispatch-init.js';
import { DispatchRetries1764100000000 } from './infra/migrations/1764100000000-dispatch-retries.js';
import { RetryTraceparent1764200000000 } from './infra/migrations/1764200000000-retry-traceparent.js';
import { RetryScheduler } from './infra/retry-scheduler.js';
import { LaneOwnership } from './infra/lane-ownership.js';
import { ReceiptForwarder } from './infra/receipt-forwarder.js';

const config = loadCarrierDispatchConfig();
const gatewayFile = loadGatewayFile(config.GATEWAY_CONFIG_FILE);
const runtime = await createServiceRuntime('carrier-dispatch', config, {
  schema: 'carrier_dispatch',
  migrations: [CarrierDispatchInit1764000000000, DispatchRetries1764100000000, RetryTraceparent1764200000000],
});

const forwarded = new Counter({
  name: 'carrier_inbound_forwarded_total',
  help: 'Receipts and mobile-originated messages published, by kind',
  labelNames: ['kind'],
  registers: [runtime.metrics],
});
const receipts = new ReceiptForwarder(runtime.publisher, runtime.logger, config.RECEIPT_FLUSH_MS);
receipts.onForwarded = (kind, count) => forwarded.inc({ kind }, count);
const dropped = new Counter({
  name: 'carrier_inbound_dropped_total',
  help: 'Receipts and mobile-originated messages not forwarded: fields their events cannot carry (see the log)',
  labelNames: ['kind'],
  registers: [runtime.metrics],
});
receipts.onDropped = (kind) => dropped.inc({ kind });

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
    check: async () => {
      if (route.bindsUp === 0) throw new Error(route.describeDown());
      return `binds ${route.bindsUp}/${route.bindsTotal}, breaker ${route.state}`;
    },
  });
}

const retryCounter = new Counter({
  name: 'carrier_dispatch_retries_total',
  help: 'Transient carrier errors: retries scheduled on the same carrier, and retries exhausted (handed to failover)',
  labelNames: ['lane', 'reason', 'outcome'],
  registers: [runtime.metrics],
});
const unidentifiedCounter = new Counter({
  name: 'carrier_submits_unidentified_total',
  help: 'Parts a carrier accepted with an empty or over-long message_id (recorded as unidentified; no receipt can match)',
  labelNames: ['carrier'],
  registers: [runtime.metrics],
});
// The pool's 10 connections opened before consuming (10 concurrent round trips make the pool open them), so a
// fresh replica's first dispatch batches do not also wait for connection set-up (SCRAM) on the cold process.
await Promise.all(Array.from({ length: 10 }, () => runtime.dataSource.query('SELECT 1')));
const retryScheduler = new RetryScheduler(runtime.dataSource, runtime.publisher, runtime.logger, config.RETRY_POLL_MS);
retryScheduler.start();

const prefix = config.KAFKA_GROUP_PREFIX;
// Each carrier's mps share on this replica follows the lane partitions its consumers actually own.
const ownership = new LaneOwnership(
  [
    { lane: 'otp', topic: DispatchOtpV1.topic, partitions: DispatchOtpV1.partitions },
    { lane: 'transactional', topic: DispatchTransactionalV1.topic, partitions: DispatchTransactionalV1.partitions },
    { lane: 'promotional', topic: DispatchPromotionalV1.topic, partitions: DispatchPromotionalV1.partitions },
  ],
  (owned) => carriers.applyOwnership(owned),
);
await runNestService(
  runtime,
  CarrierDispatchModule.register(runtime, carriers, {
    scheduler: retryScheduler,
    settings: { maxRetries: config.RETRY_MAX, baseDelayMs: config.RETRY_BASE_DELAY_MS, maxDelayMs: config.RETRY_MAX_DELAY_MS },
    hooks: {
      onScheduled: (lane, reason) => retryCounter.inc({ lane, reason, outcome: 'scheduled' }),
      onExhausted: (lane, reason) => retryCounter.inc({ lane, reason, outcome: 'exhausted' }),
      onUnidentifiedSubmit: (carrierId, rawMessageId) => {
        unidentifiedCounter.inc({ carrier: carrierId });
        runtime.logger.warn(
          { carrierId, rawMessageId: rawMessageId.slice(0, 200), rawLength: rawMessageId.length },
          'carrier accepted a part with an unusable message_id (empty or over 128 characters): it is not resent, but no receipt can match it',
        );
      },
    },
  }),
  { port: config.HTTP_PORT, host: config.HTTP_HOST },
  [
    // Every partition of a lane in flight at once: a batch's database and Kafka round trips then overlap
    // with other partitions' submits instead of idling the binds (routes apply back-pressure).
    {
      groupId: `${prefix}.carrier-dispatch.otp`,
      contracts: [DispatchOtpV1],
      maxBatchSize: 200,
      concurrency: DispatchOtpV1.partitions,
      onAssignment: (a) => ownership.onAssignment('otp', a),
    },
    {
      groupId: `${prefix}.carrier-dispatch.transactional`,
      contracts: [DispatchTransactionalV1],
      concurrency: DispatchTransactionalV1.partitions,
      // Measured at 4 binds x window 50 x 50 ms (docs/benchmarks/carrier-dispatch.md, 2026-12-05): the binds
      // idled where a partition's slice waited for its last answers before the next slice was read (worst
      // when one partition ran alone), so two slices of 250 a partition overlap; eachBatch still returns only
      // once both are answered, so a rebalance never hands over a part still being submitted.
      maxBatchSize: 250,
      slicesInFlight: 2,
      // All six partitions in every fetch: at 2 MiB each, kafkajs's 10 MiB response held five, and the sixth
      // ran alone a whole round late. The response stays at most 10 MiB (decoded synchronously, see below).
      maxBytesPerPartition: Math.floor((10 * 1024 * 1024) / DispatchTransactionalV1.partitions),
      maxBytes: 10 * 1024 * 1024,
      onAssignment: (a) => ownership.onAssignment('transactional', a),
    },
    {
      groupId: `${prefix}.carrier-dispatch.promotional`,
      contracts: [DispatchPromotionalV1],
      concurrency: DispatchPromotionalV1.partitions,
      // kafkajs decodes a whole fetch response synchronously; a promotional backlog fetched 2 MiB a
      // partition at a time would stall this process's event loop, OTP lane included (as measured in the
      // router). Its rate is bounded by the carrier's mps anyway, so small fetches cost it nothing.
      maxBytesPerPartition: 64 * 1024,
      maxBytes: 256 * 1024,
      onAssignment: (a) => ownership.onAssignment('promotional', a),
    },
  ],
  async (stopConsumers) => {
    // Consumers first: a batch being handled finishes on binds that are still up. Unbinding under it failed
    // its waiting parts over to the router (and a part the carrier had accepted but not yet answered could
    // then be sent again by another route); the replica test in test/e2e found it on a rolling restart.
    await stopConsumers();
    await retryScheduler.stop();
    await carriers.stop();
    await receipts.flush();
  },
);
