import type { FastifyInstance } from 'fastify';
import { createServiceRuntime, runNestService } from '@sms/platform';
import { Histogram, latencyBuckets } from '@sms/telemetry';
import { IngestModule } from './app.module.js';
import { loadIngestConfig } from './config/ingest.config.js';
import { ingestContracts } from './consumers/ingest.consumer.js';
import { toProblem } from './http/problem.js';
import { registerRequestTracing } from './http/tracing.js';
import { IngestInit1764000000000 } from './infra/migrations/1764000000000-ingest-init.js';
import { OutboxRelay } from './infra/outbox-relay.js';
import { TenantsRepository } from './infra/tenants.repository.js';

const config = loadIngestConfig();
const runtime = await createServiceRuntime('ingest', config, { schema: 'ingest', migrations: [IngestInit1764000000000] });

if (config.DEMO_TENANT_ID && config.DEMO_API_KEY) {
  const tenants = new TenantsRepository(runtime.dataSource);
  await tenants.upsertTenant(config.DEMO_TENANT_ID, 'Demo tenant', false);
  await tenants.addKey(config.DEMO_TENANT_ID, config.DEMO_API_KEY, ['send', 'read']);
}

const relay = new OutboxRelay(runtime.dataSource, runtime.publisher, runtime.logger, {
  pollMs: config.OUTBOX_POLL_MS,
  batch: config.OUTBOX_BATCH,
});
const outboxLag = new Histogram({
  name: 'ingest_outbox_relay_delay_seconds',
  help: 'Time from outbox insert to publish (oldest row of each relayed batch)',
  buckets: latencyBuckets,
  registers: [runtime.metrics],
});
relay.onPublished = (_count, oldest) => outboxLag.observe((Date.now() - oldest.getTime()) / 1000);

const app = await runNestService(
  runtime,
  IngestModule.register(runtime, config, relay),
  { port: config.HTTP_PORT, host: config.HTTP_HOST, bodyLimit: config.BODY_LIMIT_BYTES },
  [{ groupId: `${config.KAFKA_GROUP_PREFIX}.ingest`, contracts: [...ingestContracts] }],
  () => relay.stop(),
  (fastify: FastifyInstance) => {
    registerRequestTracing(fastify);
    // Errors raised by fastify before a route runs (malformed JSON, 413, 415) become problem+json too.
    fastify.setErrorHandler((error, _request, reply) => {
      const { body, headers } = toProblem(error, runtime.logger);
      void reply.status(body.status).headers(headers).type('application/problem+json').send(body);
    });
  },
);
relay.start();
void app;
