import { z } from 'zod';
import { commonServiceShape, loadConfig } from '@sms/config';
import { parseCarrierSecrets } from '../domain/http-receipt.js';

const millis = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

export const dlrProcessorConfigShape = {
  ...commonServiceShape,
  HTTP_PORT: commonServiceShape.HTTP_PORT.default(8084),
  /** How often the sweeper looks for messages past validity and for stale pending receipts. */
  DLR_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(30_000),
  /** Messages expired per UPDATE; the sweeper loops until a round finds fewer. */
  DLR_SWEEP_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /**
   * How long after its validity a message without a final receipt is declared expired. Carriers report
   * expiry late (their own sweep), so the default is generous: 10 min locally and in tests, 1 h in
   * production (see `resolveExpiryGraceMs`).
   */
  DLR_EXPIRY_GRACE_MS: z.coerce.number().int().min(0).optional(),
  /** Receipts whose carrier id stays unknown this long are parked (flagged and counted, never deleted). */
  DLR_PENDING_RECEIPT_TTL_MS: millis(60 * 60_000),
  /**
   * Shared secrets of the carriers that POST receipts over HTTP: `carrier-a=secret,carrier-b=secret` (a
   * carrier listed twice has two valid secrets, for rotation). A carrier not listed is unknown (404).
   */
  DLR_HTTP_CARRIER_SECRETS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      try {
        return parseCarrierSecrets(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /**
   * Events per transaction (one consumed slice). Each slice costs a fixed number of round trips and one
   * Kafka publish whatever its size, so bigger slices are cheaper per receipt; they hold their row locks longer.
   * At most 1000: each slice takes one advisory lock per carrier id, and PostgreSQL's shared lock table
   * (max_locks_per_transaction 64 x max_connections 100 = 6400 by default) is shared by every transaction
   * of the server (3 x 2000 already came within a few hundred of it).
   */
  DLR_CONSUMER_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(500),
  /** Partitions (of submitted and receipts together) processed in parallel, each in its own transaction. */
  DLR_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** How far X-Carrier-Timestamp may be from now (replay window). */
  DLR_HTTP_SIGNATURE_TOLERANCE_S: z.coerce.number().int().min(1).max(3600).default(300),
};

export type DlrProcessorConfig = ReturnType<typeof loadDlrProcessorConfig>;

export function loadDlrProcessorConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig('dlr-processor', dlrProcessorConfigShape, env);
  return {
    ...config,
    DLR_EXPIRY_GRACE_MS: resolveExpiryGraceMs(config.GATEWAY_MODE, config.DLR_EXPIRY_GRACE_MS),
  };
}

export function resolveExpiryGraceMs(
  mode: 'local' | 'test' | 'production',
  configured: number | undefined,
): number {
  if (configured !== undefined) return configured;
  return mode === 'production' ? 60 * 60_000 : 10 * 60_000;
}
