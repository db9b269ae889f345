import { z } from 'zod';
import { commonServiceShape, loadConfig } from '@sms/config';

export const carrierDispatchConfigShape = {
  ...commonServiceShape,
  HTTP_PORT: commonServiceShape.HTTP_PORT.default(8083),
  GATEWAY_CONFIG_FILE: z.string().min(1),
  /** Receipts are published in small batches: the longest a receipt waits for company (ms). */
  RECEIPT_FLUSH_MS: z.coerce.number().int().min(1).default(10),
  /** Breaker: failure percentage over the rolling window that opens it, and the minimum volume first. */
  BREAKER_ERROR_PERCENT: z.coerce.number().min(1).max(100).default(50),
  BREAKER_VOLUME_THRESHOLD: z.coerce.number().int().min(1).default(20),
  BREAKER_RESET_MS: z.coerce.number().int().min(100).default(10000),
  /** Retries of transient carrier errors on the same carrier before failover (0: fail over at once). */
  RETRY_MAX: z.coerce.number().int().min(0).max(20).default(3),
  RETRY_BASE_DELAY_MS: z.coerce.number().int().min(10).default(1000),
  RETRY_MAX_DELAY_MS: z.coerce.number().int().min(10).default(30000),
  /** How often the retry table is polled for due retries. */
  RETRY_POLL_MS: z.coerce.number().int().min(10).default(250),
};
export const loadCarrierDispatchConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig('carrier-dispatch', carrierDispatchConfigShape, env);
export type CarrierDispatchConfig = ReturnType<typeof loadCarrierDispatchConfig>;
