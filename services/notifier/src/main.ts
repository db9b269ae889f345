import { createServiceRuntime, runNestService } from '@sms/platform';
import { NotifierModule } from './app.module.js';
import { WebhookDispatcher } from './application/webhook-dispatcher.js';
import { notifierContracts } from './application/webhook-enqueue.service.js';
import { loadNotifierConfig } from './config/notifier.config.js';
import { NotifierInit1764000000000 } from './infra/migrations/1764000000000-notifier-init.js';
import { NotifierEndpoints1764000000001 } from './infra/migrations/1764000000001-notifier-endpoints.js';
import { WebhookDeliveriesRepository } from './infra/webhook-deliveries.repository.js';
import { WebhookSecretsRepository } from './infra/webhook-secrets.repository.js';
import { systemResolver, WebhookHttpClient } from './infra/webhook-http.js';

const config = loadNotifierConfig();
const runtime = await createServiceRuntime('notifier', config, { schema: 'notifier', migrations: [NotifierInit1764000000000, NotifierEndpoints1764000000001] });
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
  },
  {
    deliveries: new WebhookDeliveriesRepository(runtime.dataSource),
    secrets,
    http: new WebhookHttpClient(config.WEBHOOK_ENDPOINT_CONCURRENCY),
    resolver: systemResolver,
    metrics: runtime.metrics,
    logger: runtime.logger,
  },
);
runtime.readiness.register({ name: 'webhook-dispatcher', check: async () => dispatcher.isRunning() });
// Rows left from before a restart are sent without waiting for new events.
dispatcher.start();
await runNestService(
  runtime,
  NotifierModule.register(runtime, config, dispatcher),
  { port: config.HTTP_PORT, host: config.HTTP_HOST },
  [{ groupId: `${config.KAFKA_GROUP_PREFIX}.notifier`, contracts: [...notifierContracts] }],
  () => dispatcher.stop(),
);
