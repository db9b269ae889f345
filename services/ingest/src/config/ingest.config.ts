import { z } from 'zod';
import { commonServiceShape, loadConfig } from '@sms/config';

export const ingestConfigShape = {
  ...commonServiceShape,
  HTTP_PORT: commonServiceShape.HTTP_PORT.default(8080),
  /** Largest number of SMS segments a message may take. */
  MAX_SEGMENTS: z.coerce.number().int().min(1).max(255).default(10),
  /** Validity when the sender gives none (seconds). */
  DEFAULT_VALIDITY_SECONDS: z.coerce.number().int().positive().default(48 * 3600),
  /** Outbox relay: fallback poll interval when no in-process wake-up happened (ms). */
  OUTBOX_POLL_MS: z.coerce.number().int().min(5).default(200),
  OUTBOX_BATCH: z.coerce.number().int().min(1).max(5000).default(1000),
  /** Seeded on start when set: the demo tenant and its API key (what `npm start` prints). */
  DEMO_TENANT_ID: z.string().min(1).max(64).optional(),
  DEMO_API_KEY: z.string().min(20).optional(),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
};
export const loadIngestConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig('ingest', ingestConfigShape, env);
export type IngestConfig = ReturnType<typeof loadIngestConfig>;
