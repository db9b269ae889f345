import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadGatewayFile } from '@sms/config';
import { createServiceRuntime, runNestService, type ServiceRuntime } from '@sms/platform';
import { RouterModule } from './app.module.js';
import { HeldMessagesReleaser } from './application/held-messages.releaser.js';
import { isAcceptedLaneGroup, RoutingService, routerConsumerGroups } from './application/routing.service.js';
import { HeldMessagesRepository } from './infra/held-messages.repository.js';
import type { RouterConfig } from './config/router.config.js';
import { routingPolicyOf } from './config/routing-policy.js';
import { CarrierHealthListener, CarrierHealthStore } from './infra/carrier-health.listener.js';
import { routerMigrations } from './infra/migrations/index.js';
import { RouteConfigSource } from './infra/route-config.source.js';
import { RoutingThreads } from './workers/routing-threads.js';

export interface RunningRouter {
  app: NestFastifyApplication;
  runtime: ServiceRuntime;
  routes: RouteConfigSource;
  health: CarrierHealthStore;
  /** The routing threads (ROUTER_WORKERS > 0); undefined when the main thread routes. */
  threads?: RoutingThreads;
  close(): Promise<void>;
}

export interface StartRouterOptions {
  /**
   * A routing thread exited while the router was running. Default: log, stop what can be stopped and exit
   * the process with code 1 (an instance routing only part of its lanes' share must not stay up).
   */
  onThreadLost?: (reason: string) => void;
}

/** Starts the router; main.ts runs it as a process, integration tests in-process. */
export async function startRouter(config: RouterConfig, options: StartRouterOptions = {}): Promise<RunningRouter> {
  // Read before anything connects: an invalid file at start stops the process with every problem listed.
  const gatewayFile = loadGatewayFile(config.GATEWAY_CONFIG_FILE);
  const runtime = await createServiceRuntime('router', config, { schema: 'router', migrations: routerMigrations });
  const routes = new RouteConfigSource(config.GATEWAY_CONFIG_FILE, runtime.logger, runtime.metrics, gatewayFile);
  const health = new CarrierHealthStore();
  // Created before carrier health is read and the file watched, so that no change is missed: a change
  // posted before a thread runs waits in its port.
  const threads =
    config.ROUTER_WORKERS > 0
      ? new RoutingThreads(config.ROUTER_WORKERS, config, runtime.logger, (_index, reason) => lost(reason))
      : undefined;
  // Set once the app exists: what a lost thread stops before the process exits.
  const running: { close?: () => Promise<void> } = {};
  const lost = (reason: string) => {
    if (options.onThreadLost) return options.onThreadLost(reason);
    runtime.logger.fatal({ reason }, 'a routing thread was lost: stopping the router');
    const exit = () => process.exit(1);
    setTimeout(exit, 15_000).unref();
    void (running.close ?? (async () => undefined))().finally(exit);
  };
  if (threads) {
    routes.onChange((file) => threads.routes(file));
    health.onChange((state) => threads.health(state));
    await threads.start(gatewayFile, []);
    runtime.readiness.register({ name: 'routing-threads', check: () => threads.ready() });
  }
  const healthListener = new CarrierHealthListener(runtime.kafka, config.KAFKA_GROUP_PREFIX, health, runtime.logger, runtime.metrics);
  await healthListener.start();
  runtime.readiness.register({ name: 'carrier-health', check: async () => healthListener.isRunning() });
  routes.watch(config.ROUTER_CONFIG_POLL_MS);
  // Created once the app exists (it needs the app's RoutingService); stopped before the app closes.
  const held: { releaser?: HeldMessagesReleaser } = {};
  const stopExtras = async () => {
    routes.stop();
    await held.releaser?.stop();
    await healthListener.stop();
    await threads?.stop();
  };
  const groups = routerConsumerGroups(config.KAFKA_GROUP_PREFIX);
  const app = await runNestService(
    runtime,
    RouterModule.register(runtime, {
      routes,
      health,
      adminToken: config.ROUTER_ADMIN_TOKEN,
      ...routingPolicyOf(config),
      metrics: threads && {
        contentType: runtime.metrics.contentType,
        metrics: async () => (await threads.metrics(runtime.metrics)).metrics(),
      },
    }),
    { port: config.HTTP_PORT, host: config.HTTP_HOST },
    // With routing threads, the accepted lanes are theirs; failover and MO stay on the main thread.
    threads ? groups.filter((g) => !isAcceptedLaneGroup(g)) : groups,
    stopExtras,
  );
  held.releaser = new HeldMessagesReleaser(new HeldMessagesRepository(runtime.dataSource), app.get(RoutingService), runtime.logger, config.ROUTER_HOLD_POLL_MS);
  held.releaser.start();
  running.close = async () => {
    await stopExtras();
    await app.close();
    await runtime.kafkaProbe.close();
    await runtime.publisher.disconnect();
    await runtime.dataSource.destroy();
  };
  return { app, runtime, routes, health, threads, close: running.close };
}
