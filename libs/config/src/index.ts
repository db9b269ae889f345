import { z } from 'zod';

/**
 * Environment is read and validated once, at start, into a typed object. A bad or missing variable stops
 * the process with one message listing every problem, instead of failing later at first use.
 */
export class ConfigError extends Error {
  constructor(
    readonly serviceName: string,
    readonly problems: string[],
  ) {
    super(
      `${serviceName}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Fix the environment variables above (see README "Configuration") and start again.',
    );
    this.name = 'ConfigError';
  }
}

export function loadConfig<TShape extends z.ZodRawShape>(
  serviceName: string,
  shape: TShape,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<TShape>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      const value = env[key];
      return `${key}: ${issue.message}${value === undefined ? ' (not set)' : ''}`;
    });
    throw new ConfigError(serviceName, problems);
  }
  return result.data;
}

/** Comma-separated list of host:port pairs. */
export const brokersVar = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'each broker must be host:port')).min(1));

export const portVar = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const gatewayModeVar = z
  .enum(['local', 'test', 'production'])
  .default('production')
  .describe('local and test relax webhook URL rules (http, loopback) for demos and tests');

export const logLevelVar = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

export const postgresUrlVar = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');

/** The variables every service shares. */
export const commonServiceShape = {
  KAFKA_BROKERS: brokersVar,
  DATABASE_URL: postgresUrlVar,
  GATEWAY_MODE: gatewayModeVar,
  LOG_LEVEL: logLevelVar,
  /** Port of the service's own HTTP server (health, metrics, and for ingest the public API). */
  HTTP_PORT: portVar(0),
  HTTP_HOST: z.string().default('127.0.0.1'),
  /** Prefix for consumer group ids, so parallel test stacks on one broker do not share groups. */
  KAFKA_GROUP_PREFIX: z.string().default('sms'),
};

export type CommonServiceConfig = z.infer<z.ZodObject<typeof commonServiceShape>>;
export * from './gateway-file.js';
