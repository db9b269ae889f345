import type { MessagePort } from 'node:worker_threads';
import type { AcceptedPayload } from '@sms/contracts';
import { BatchConsumer, createKafka, EventPublisher, type ConsumedEvent } from '@sms/kafka';
import { consumerMetricHooks, createLogger, openServiceDatabase } from '@sms/platform';
import { Registry, shutdownTelemetry, startTelemetry } from '@sms/telemetry';
import { isAcceptedLaneGroup, routerConsumerGroups } from '../application/routing.service.js';
import { createRoutingService } from '../application/routing-service.factory.js';
import { routingPolicyOf } from '../config/routing-policy.js';
import { CarrierHealthStore } from '../infra/carrier-health.listener.js';
import { ComplianceRepository } from '../infra/compliance.repository.js';
import { routerMigrations } from '../infra/migrations/index.js';
import { routeTableOf } from '../infra/route-config.source.js';
import { isToRoutingThread, type FromRoutingThread, type RoutingThreadData } from './protocol.js';

/**
 * One routing thread: members of the three accepted-lane groups, with its own producer, PostgreSQL pool and
 * RoutingService. Routes and carrier health are copies the main thread keeps current; nothing here reads
 * the gateway file or the carrier-health topic itself, so every thread routes by the table the main thread
 * accepted.
 */
export async function runRoutingThread(port: MessagePort, data: RoutingThreadData): Promise<void> {
  const { config } = data;
  const send = (message: FromRoutingThread) => port.postMessage(message);
  startTelemetry('router');
  const logger = createLogger('router', config.LOG_LEVEL).child({ routingThread: data.index });
  // No default (process) metrics here: the main thread reports those once for the whole process.
  const metrics = new Registry();
  metrics.setDefaultLabels({ service: 'router' });
  const consumerHooks = consumerMetricHooks(metrics);
  // The main thread ran the migrations before starting this thread: here they are found applied.
  const dataSource = await openServiceDatabase({
    url: config.DATABASE_URL,
    applicationName: `router-${data.index}`,
    schema: 'router',
    migrations: routerMigrations,
  });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'router', logger });
  const publisher = new EventPublisher(kafka, { idempotent: false });
  await publisher.connect();

  let table = routeTableOf(data.routes.file);
  let routesVersion = data.routes.version;
  const health = new CarrierHealthStore(data.health);
  const routing = createRoutingService({
    dataSource,
    publisher,
    routes: () => table,
    health,
    policy: routingPolicyOf(config),
    compliance: new ComplianceRepository(dataSource),
  });
  const consumers = routerConsumerGroups(config.KAFKA_GROUP_PREFIX)
    .filter(isAcceptedLaneGroup)
    .map(
      (spec) =>
        new BatchConsumer(kafka, {
          groupId: spec.groupId,
          subscriptions: spec.contracts.map((contract) => ({
            contract,
            handle: (batch: ConsumedEvent<unknown>[]) => routing.routeAccepted(batch as ConsumedEvent<AcceptedPayload>[]),
          })),
          publisher,
          logger,
          concurrency: spec.concurrency,
          maxBatchSize: spec.maxBatchSize,
          maxBytesPerPartition: spec.maxBytesPerPartition,
          maxBytes: spec.maxBytes,
          hooks: consumerHooks,
        }),
    );

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    // Consumers first: each finishes (and commits) the batch it is routing before it leaves its group.
    await Promise.all(consumers.map((c) => c.stop()));
    await publisher.disconnect();
    await dataSource.destroy();
    await shutdownTelemetry();
  };
  port.on('message', (message: unknown) => {
    if (!isToRoutingThread(message)) return;
    switch (message.type) {
      case 'routes':
        // Validated by the main thread; a refused file is never sent.
        table = routeTableOf(message.file);
        routesVersion = message.version;
        return;
      case 'health':
        health.apply(message.state);
        return;
      case 'status':
        void (message.metrics ? metrics.getMetricsAsJSON() : Promise.resolve([])).then((json) =>
          send({ type: 'status', id: message.id, status: { consuming: consumers.every((c) => c.isRunning()), routesVersion, metrics: json } }),
        );
        return;
      case 'stop':
        stopping ??= stop().then(() => {
          send({ type: 'stopped' });
          port.close();
        });
        return;
    }
  });
  await Promise.all(consumers.map((c) => c.start()));
  logger.info({ groups: consumers.map((c) => c.groupId) }, 'routing thread started');
  send({ type: 'started' });
}
