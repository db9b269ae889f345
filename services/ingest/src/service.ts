import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { createServiceRuntime, runNestService, type ServiceRuntime } from '@sms/platform';
import { Histogram, latencyBuckets } from '@sms/telemetry';
import { IngestModule } from './app.module.js';
import type { IngestConfig } from './config/ingest.config.js';
import { ingestContracts } from './consumers/ingest.consumer.js';
import { apiRoutes } from './http/api-routes.js';
import { registerApiDocs } from './http/docs.js';
import { toProblem } from './http/problem.js';
import { registerRequestTracing } from './http/tracing.js';
import { ingestMigrations } from './infra/migrations/index.js';
import { IdempotencyKeyPurger } from './infra/idempotency-key-purger.js';
import { OutboxRelay } from './infra/outbox-relay.js';
import { OutboxRelayThread, type RelayHandle } from './infra/outbox-relay-thread.js';
import { RoutePreviewSource } from './infra/route-preview.source.js';
import { TenantsRepository } from './infra/tenants.repository.js';

export interface RunningIngest {
  app: NestFastifyApplication;
  runtime: ServiceRuntime;
  relay: RelayHandle;
  /** Every route fastify registered (method and path), for the test that the OpenAPI document is complete. */
  routes: { method: string; url: string }[];
  url: string;
  close(): Promise<void>;
}

/** Starts ingest; main.ts runs it as a process, integration tests in-process. */
export async function startIngest(config: IngestConfig): Promise<RunningIngest> {
  const runtime = await createServiceRuntime('ingest', config, { schema: 'ingest', migrations: ingestMigrations, poolSize: config.DB_POOL_SIZE });

  if (config.DEMO_TENANT_ID && config.DEMO_API_KEY) {
    const tenants = new TenantsRepository(runtime.dataSource);
    await tenants.upsertTenant(config.DEMO_TENANT_ID, 'Demo tenant', false);
    await tenants.addKey(config.DEMO_TENANT_ID, config.DEMO_API_KEY, ['send', 'read']);
  }

  const relayOptions = { pollMs: config.OUTBOX_POLL_MS, batch: config.OUTBOX_BATCH, loops: config.OUTBOX_LOOPS };
  const relay: RelayHandle =
    config.OUTBOX_RELAY === 'thread'
      ? new OutboxRelayThread(
          {
            ...relayOptions,
            databaseUrl: config.DATABASE_URL,
            brokers: config.KAFKA_BROKERS,
            logLevel: config.LOG_LEVEL,
            // One connection per loop, the OTP loop's, and one spare.
            poolSize: config.OUTBOX_LOOPS + 2,
          },
          runtime.logger,
        )
      : new OutboxRelay(runtime.dataSource, runtime.publisher, runtime.logger, relayOptions);
  const outboxLag = new Histogram({
    name: 'ingest_outbox_relay_delay_seconds',
    help: 'Time from outbox insert to publish (oldest row of each relayed batch)',
    buckets: latencyBuckets,
    registers: [runtime.metrics],
  });
  relay.onPublished = (_count, oldest) => outboxLag.observe((Date.now() - oldest.getTime()) / 1000);

  const purger = new IdempotencyKeyPurger(runtime.dataSource, runtime.logger, { intervalMs: config.IDEMPOTENCY_PURGE_INTERVAL_MS, retentionHours: 24, chunk: 5000 });
  purger.start();

  const routePreview = config.GATEWAY_CONFIG_FILE ? new RoutePreviewSource(config.GATEWAY_CONFIG_FILE, runtime.logger) : undefined;
  routePreview?.watch(config.INGEST_CONFIG_POLL_MS);

  const httpDurations = new Histogram({
    name: 'ingest_http_request_duration_seconds',
    help: 'API requests, from arrival to the response (time inside ingest), by route and status',
    labelNames: ['route', 'status'] as const,
    buckets: latencyBuckets,
    registers: [runtime.metrics],
  });

  const routes: { method: string; url: string }[] = [];
  const app = await runNestService(
    runtime,
    IngestModule.register(runtime, config, relay, routePreview),
    { port: config.HTTP_PORT, host: config.HTTP_HOST, bodyLimit: config.BODY_LIMIT_BYTES },
    [{ groupId: `${config.KAFKA_GROUP_PREFIX}.ingest`, contracts: [...ingestContracts] }],
    async () => {
      routePreview?.stop();
      await purger.stop();
      await relay.stop();
    },
    (fastify: FastifyInstance) => {
      fastify.addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) routes.push({ method: method.toLowerCase(), url: route.url });
        // Only the batch endpoint takes bodies beyond the general limit.
        if (route.url === apiRoutes.sendBatch.path) route.bodyLimit = config.BATCH_BODY_LIMIT_BYTES;
      });
      registerRequestTracing(fastify, httpDurations);
      registerApiDocs(fastify);
      // Errors raised by fastify before a route runs (malformed JSON, 413, 415) become problem+json too.
      fastify.setErrorHandler((error, _request, reply) => {
        const { body, headers } = toProblem(error, runtime.logger);
        void reply.status(body.status).headers(headers).type('application/problem+json').send(body);
      });
    },
  );
  relay.start();
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
  return {
    app,
    runtime,
    relay,
    routes,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      routePreview?.stop();
      await relay.stop();
      await app.close();
      await runtime.kafkaProbe.close();
      await runtime.publisher.disconnect();
      await runtime.dataSource.destroy();
    },
  };
}
