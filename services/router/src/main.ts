import { loadRouterConfig } from './config/router.config.js';
import { startRouter } from './service.js';

await startRouter(loadRouterConfig());
