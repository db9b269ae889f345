import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import type { Registry } from 'prom-client';
import type { EventContract } from '@sms/contracts';
import { createKafka, EventPublisher, type ConsumerHooks, type Kafka } from '@sms/kafka';
import { connectKafkaBatchServer, type KafkaBatchServer } from '@sms/nest-kafka';
import { Counter, createMetricsRegistry, shutdownTelemetry, startTelemetry } from '@sms/telemetry';
import type { CommonServiceConfig } from '@sms/config';
import { createLogger, type Logger } from './logger.js';
import { ReadinessRegistry } from './readiness.js';
import { KafkaClusterProbe } from './kafka-probe.js';
import { openServiceDatabase, type ServiceDatabaseOptions } from './database.js';
import { onShutdownSignal } from './shutdown.js';

/**
 * The side effects a service is built on (database, Kafka, metrics, readiness, logger), created once in
 * main and handed to the Nest module as providers, so domain code receives them as injectable ports.
 */
export interface ServiceRuntime {
  name: string;
  logger: Logger;
  kafka: Kafka;
  publisher: EventPublisher;
  dataSource: DataSource;
  metrics: Registry;
  readiness: ReadinessRegistry;
  /** Kafka readiness over one admin connection; closed on shutdown. */
  kafkaProbe: KafkaClusterProbe;
}

export async function createServiceRuntime(
  name: string,
  config: CommonServiceConfig,
  database: Omit<ServiceDatabaseOptions, 'url' | 'applicationName'>,
  options: { idempotentProducer?: boolean } = {},
): Promise<ServiceRuntime> {
  startTelemetry(name);
  const logger = createLogger(name, config.LOG_LEVEL);
  const metrics = createMetricsRegistry(name);
  const readiness = new ReadinessRegistry();
  const dataSource = await openServiceDatabase({ ...database, url: config.DATABASE_URL, applicationName: name });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: name, logger });
  const publisher = new EventPublisher(kafka, { idempotent: options.idempotentProducer ?? false });
  await publisher.connect();
  readiness.register({
    name: 'postgres',
    check: async () => {
      await dataSource.query('SELECT 1');
      return true;
    },
  });
  const kafkaProbe = new KafkaClusterProbe(() => kafka.admin());
  readiness.register({ name: 'kafka', check: () => kafkaProbe.check() });
  return { name, logger, kafka, publisher, dataSource, metrics, readiness, kafkaProbe };
}

/**
 * The consumed and dead-lettered counters every batch consumer reports to, registered in `registry`: the
 * service's own, or a routing thread's (the router sums those by name and labels on /metrics).
 */
export function consumerMetricHooks(registry: Registry): Required<Pick<ConsumerHooks, 'onConsumed' | 'onDeadLetter'>> {
  const consumed = new Counter({
    name: 'kafka_events_consumed_total',
    help: 'Events handled successfully, by topic',
    labelNames: ['topic'],
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'kafka_events_dead_lettered_total',
    help: 'Events sent to the dead-letter topic, by topic and reason',
    labelNames: ['topic', 'reason'],
    registers: [registry],
  });
  return {
    onConsumed: (topic, count) => consumed.inc({ topic }, count),
    onDeadLetter: (topic, reason) => deadLettered.inc({ topic, reason }),
  };
}

export interface ConsumerGroupSpec {
  groupId: string;
  contracts: EventContract<unknown>[];
  concurrency?: number;
  maxBatchSize?: number;
  /** Slices of a partition's batch handled at once, see BatchConsumerOptions in @sms/kafka. */
  slicesInFlight?: number;
  /** Fetch size limits, see BatchConsumerOptions in @sms/kafka. */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** Called with this replica's partitions after each rebalance of the group (see ConsumerHooks.onAssignment). */
  onAssignment?(assignment: Readonly<Record<string, number[]>>): void;
}

/**
 * Boots the Nest app: HTTP (fastify) for health, metrics and any controllers; one batch Kafka consumer per
 * consumer group spec; clean shutdown on SIGINT/SIGTERM.
 */
export async function runNestService(
  runtime: ServiceRuntime,
  module: DynamicModule,
  http: { port: number; host: string; bodyLimit?: number },
  consumers: ConsumerGroupSpec[],
  /**
   * Runs on SIGINT/SIGTERM before the app closes. `stopConsumers` ends the Kafka consumers first (each waits
   * for the batch it is handling), for a service whose handlers need what onStop tears down.
   */
  onStop: (stopConsumers: () => Promise<void>) => Promise<void> = async () => undefined,
  configureFastify?: (fastify: FastifyInstance) => void,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: http.bodyLimit ?? 1024 * 1024, allowErrorHandlerOverride: true });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  // After Nest set up its own handlers, before routes are registered (init).
  configureFastify?.(app.getHttpAdapter().getInstance() as unknown as FastifyInstance);
  const consumerHooks = consumerMetricHooks(runtime.metrics);
  const servers: KafkaBatchServer[] = consumers.map((spec) =>
    connectKafkaBatchServer(app, {
      kafka: runtime.kafka,
      groupId: spec.groupId,
      contracts: spec.contracts,
      publisher: runtime.publisher,
      logger: runtime.logger,
      concurrency: spec.concurrency,
      maxBatchSize: spec.maxBatchSize,
      slicesInFlight: spec.slicesInFlight,
      maxBytesPerPartition: spec.maxBytesPerPartition,
      maxBytes: spec.maxBytes,
      ownsAllHandlers: consumers.length === 1,
      hooks: { ...consumerHooks, onAssignment: spec.onAssignment },
    }),
  );
  for (const [index, server] of servers.entries()) {
    runtime.readiness.register({
      name: `consumer:${consumers[index]!.groupId}`,
      check: async () => server.isRunning(),
    });
  }
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.listen(http.port, http.host);
  runtime.logger.info({ url: await app.getUrl(), groups: consumers.map((c) => c.groupId) }, `${runtime.name} started`);
  onShutdownSignal(runtime.logger, async () => {
    await onStop(async () => {
      await Promise.all(servers.map((server) => server.close()));
    });
    await app.close();
    await runtime.kafkaProbe.close();
    await runtime.publisher.disconnect();
    await runtime.dataSource.destroy();
    await shutdownTelemetry();
  });
  return app;
}
