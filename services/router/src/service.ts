import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadGatewayFile } from '@sms/config';
import { createServiceRuntime, runNestService, type ServiceRuntime } from '@sms/platform';
import { RouterModule } from './app.module.js';
import { HeldMessagesReleaser } from './application/held-messages.releaser.js';
import { RoutingService, routerConsumerGroups } from './application/routing.service.js';
import { parseQuietWindow } from './domain/quiet-hours.js';
import { HeldMessagesRepository } from './infra/held-messages.repository.js';
import type { RouterConfig } from './config/router.config.js';
import { CarrierHealthListener, CarrierHealthStore } from './infra/carrier-health.listener.js';
import { routerMigrations } from './infra/migrations/index.js';
import { RouteConfigSource } from './infra/route-config.source.js';

export interface RunningRouter {
  app: NestFastifyApplication;
  runtime: ServiceRuntime;
  routes: RouteConfigSource;
  health: CarrierHealthStore;
  close(): Promise<void>;
}

/** Starts the router; main.ts runs it as a process, integration tests in-process. */
export async function startRouter(config: RouterConfig): Promise<RunningRouter> {
  // Read before anything connects: an invalid file at start stops the process with every problem listed.
  const gatewayFile = loadGatewayFile(config.GATEWAY_CONFIG_FILE);
  const runtime = await createServiceRuntime('router', config, { schema: 'router', migrations: routerMigrations });
  const routes = new RouteConfigSource(config.GATEWAY_CONFIG_FILE, runtime.logger, runtime.metrics, gatewayFile);
  const health = new CarrierHealthStore();
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
  };
  const app = await runNestService(
    runtime,
    RouterModule.register(runtime, {
      routes,
      health,
      adminToken: config.ROUTER_ADMIN_TOKEN,
      optOutClasses: new Set(config.ROUTER_OPT_OUT_CLASSES),
      templateCountries: new Set(config.ROUTER_TEMPLATE_COUNTRIES),
      senders: {
        registrationRequired: new Set(config.ROUTER_SENDER_REGISTRATION_COUNTRIES),
        alphanumericUnsupported: new Set(config.ROUTER_ALPHANUMERIC_UNSUPPORTED_COUNTRIES),
      },
      quiet: config.ROUTER_QUIET_HOURS
        ? { window: parseQuietWindow(config.ROUTER_QUIET_HOURS), text: config.ROUTER_QUIET_HOURS, classes: new Set(config.ROUTER_QUIET_HOURS_CLASSES) }
        : undefined,
    }),
    { port: config.HTTP_PORT, host: config.HTTP_HOST },
    routerConsumerGroups(config.KAFKA_GROUP_PREFIX),
    stopExtras,
  );
  held.releaser = new HeldMessagesReleaser(new HeldMessagesRepository(runtime.dataSource), app.get(RoutingService), runtime.logger, config.ROUTER_HOLD_POLL_MS);
  held.releaser.start();
  return {
    app,
    runtime,
    routes,
    health,
    close: async () => {
      await stopExtras();
      await app.close();
      await runtime.kafkaProbe.close();
      await runtime.publisher.disconnect();
      await runtime.dataSource.destroy();
    },
  };
}
