import { z } from 'zod';
import { commonServiceShape, loadConfig } from '@sms/config';

export const routerConfigShape = {
  ...commonServiceShape,
  HTTP_PORT: commonServiceShape.HTTP_PORT.default(8082),
  GATEWAY_CONFIG_FILE: z.string().min(1),
};
export type RouterConfig = ReturnType<typeof loadRouterConfig>;
export const loadRouterConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig('router', routerConfigShape, env);
