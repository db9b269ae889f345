import { acceptedContracts } from '@sms/contracts';
import { createServiceRuntime, runNestService } from '@sms/platform';
import { NotifierModule } from './app.module.js';
import { WebhookDispatcher } from './application/webhook-dispatcher.js';
import { notifierContracts } from './application/webhook-enqueue.service.js';
import { loadNotifierConfig } from './config/notifier.config.js';
import { NotifierInit1764000000000 } from './infra/migrations/1764000000000-notifier-init.js';
import { NotifierEndpoints1764000000001 } from './infra/migrations/1764000000001-notifier-endpoints.js';
import { NotifierMessageBodies1764000000002 } from './infra/migrations/1764000000002-notifier-message-bodies.js';
import { WebhookDeliveriesRepository } from './infra/webhook-deliveries.repository.js';
import { WebhookSecretsRepository } from './infra/webhook-secrets.repository.js';
import { WebhookSettingsRepository } from './infra/webhook-settings.repository.js';
import { systemResolver, WebhookHttpClient } from './infra/webhook-http.js';

const config = loadNotifierConfig();
const runtime = await createServiceRuntime('notifier', config, {
  schema: 'notifier',
  migrations: [NotifierInit1764000000000, NotifierEndpoints1764000000001, NotifierMessageBodies1764000000002],
});
const secrets = new WebhookSecretsRepository(runtime.dataSource);
if (config.DEMO_TENANT_ID && config.DEMO_WEBHOOK_SECRET) {
  // `npm start` gives the demo tenant a known secret so the demo receiver can verify signatures.
  await secrets.upsert(config.DEMO_TENANT_ID, config.DEMO_WEBHOOK_SECRET);
  runtime.logger.info({ tenantId: config.DEMO_TENANT_ID }, 'demo webhook secret installed');
}
const dispatcher = new WebhookDispatcher(
  {
    mode: config.GATEWAY_MODE,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    endpointConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
    breakerThreshold: config.WEBHOOK_BREAKER_THRESHOLD,
    breakerCooldownMs: config.WEBHOOK_BREAKER_COOLDOWN_MS,
    claimBatch: config.WEBHOOK_CLAIM_BATCH,
    pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
    retryScale: config.WEBHOOK_RETRY_SCALE,
    secretCacheMs: config.WEBHOOK_SECRET_CACHE_MS,
    bodyWaitMs: config.WEBHOOK_BODY_WAIT_MS,
    directWaitMs: config.WEBHOOK_DIRECT_WAIT_MS,
    guardCacheMs: config.WEBHOOK_GUARD_CACHE_MS,
  },
  {
    deliveries: new WebhookDeliveriesRepository(runtime.dataSource),
    secrets,
    http: new WebhookHttpClient({ connectionsPerOrigin: config.WEBHOOK_ENDPOINT_CONCURRENCY, connectTimeoutMs: config.WEBHOOK_TIMEOUT_MS }),
    resolver: systemResolver,
    metrics: runtime.metrics,
    logger: runtime.logger,
  },
);
runtime.readiness.register({ name: 'webhook-dispatcher', check: async () => dispatcher.isRunning() });
// Rows left from before a restart are sent without waiting for new events.
dispatcher.start();
// Bodies of opted-in tenants are kept only as long as their webhooks may still be retried.
const settings = new WebhookSettingsRepository(runtime.dataSource);
const purgeBodies = setInterval(() => {
  settings.purgeBodies(config.WEBHOOK_BODY_RETENTION_H * 3_600_000).catch((error: unknown) => {
    runtime.logger.warn({ error: (error as Error).message }, 'purging kept message bodies failed; will retry');
  });
}, 60_000);
purgeBodies.unref();
await runNestService(
  runtime,
  NotifierModule.register(runtime, config, dispatcher),
  { port: config.HTTP_PORT, host: config.HTTP_HOST },
  [
    { groupId: `${config.KAFKA_GROUP_PREFIX}.notifier`, contracts: [...notifierContracts] },
    // Its own group: the accepted lanes carry every message, and their backlog must never delay webhooks.
    { groupId: `${config.KAFKA_GROUP_PREFIX}.notifier-bodies`, contracts: [...acceptedContracts] },
  ],
  async () => {
    clearInterval(purgeBodies);
    await dispatcher.stop();
  },
);
