import { loadGatewayFile } from '@sms/config';
import { createServiceRuntime, runNestService } from '@sms/platform';
import { RouterModule } from './app.module.js';
import { routerContracts } from './application/routing.service.js';
import { loadRouterConfig } from './config/router.config.js';
import { RouteTable } from './domain/route-table.js';
import { RouterInit1764000000000 } from './infra/migrations/1764000000000-router-init.js';

const config = loadRouterConfig();
const gatewayFile = loadGatewayFile(config.GATEWAY_CONFIG_FILE);
const routeTable = new RouteTable(gatewayFile.routes);
const runtime = await createServiceRuntime('router', config, { schema: 'router', migrations: [RouterInit1764000000000] });
await runNestService(
  runtime,
  RouterModule.register(runtime, () => routeTable),
  { port: config.HTTP_PORT, host: config.HTTP_HOST },
  [{ groupId: `${config.KAFKA_GROUP_PREFIX}.router`, contracts: [...routerContracts] }],
);
