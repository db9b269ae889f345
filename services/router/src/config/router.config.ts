import { z } from 'zod';
import { commonServiceShape, loadConfig } from '@sms/config';
import { trafficClassSchema } from '@sms/contracts';
import { parseQuietWindow } from '../domain/quiet-hours.js';

const countryList = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[A-Z]{2}$/, 'ISO 3166 alpha-2 codes, comma-separated')));

export const routerConfigShape = {
  ...commonServiceShape,
  HTTP_PORT: commonServiceShape.HTTP_PORT.default(8082),
  GATEWAY_CONFIG_FILE: z.string().min(1),
  /** How often the gateway file is checked for changes (a changed, valid file replaces the routes). */
  ROUTER_CONFIG_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  /** Bearer token for the admin endpoints (route explain, reload, opt-outs); unset turns them off. */
  ROUTER_ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  /** Traffic classes the opt-out list applies to; OTP is exempt by default (a login code is not marketing). */
  ROUTER_OPT_OUT_CLASSES: z
    .string()
    .default('transactional,promotional')
    .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
    .pipe(z.array(trafficClassSchema)),
  /** Countries where a tenant's sender id must be registered (`POST /v1/tenants/{t}/senders`), e.g. `IN,GB`. */
  ROUTER_SENDER_REGISTRATION_COUNTRIES: countryList,
  /** Countries where alphanumeric sender ids are refused, e.g. `US,CA`. */
  ROUTER_ALPHANUMERIC_UNSUPPORTED_COUNTRIES: countryList,
  /** Countries where every body must match a template approved for the tenant there, e.g. `IN`. */
  ROUTER_TEMPLATE_COUNTRIES: countryList,
  /** Quiet hours for promotional traffic in the recipient's local time, e.g. `21:00-08:00`; unset: none. */
  ROUTER_QUIET_HOURS: z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        parseQuietWindow(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  ROUTER_QUIET_HOURS_CLASSES: z
    .string()
    .default('promotional')
    .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
    .pipe(z.array(trafficClassSchema)),
  /**
   * Routing threads (node worker_threads). 0: the accepted lanes are routed on the main thread, beside the
   * HTTP API. N > 0: N threads each consume the three accepted lanes (as members of the lane groups) with
   * their own producer and PostgreSQL pool; the main thread keeps the API, the gateway file, carrier health,
   * failover, MO and the held-message releaser. One thread routes ~12,000 msg/s on an idle core.
   */
  ROUTER_WORKERS: z.coerce.number().int().min(0).max(6).default(0),
  /** How often held messages are checked for release. */
  ROUTER_HOLD_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(10_000),
};
export type RouterConfig = ReturnType<typeof loadRouterConfig>;
export const loadRouterConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig('router', routerConfigShape, env);
