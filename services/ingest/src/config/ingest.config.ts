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
  /**
   * PostgreSQL connections of this replica. Sized for what may hold one at once: group commits (3), relay
   * loops (OUTBOX_LOOPS, each across a Kafka round trip), the consumer's partitions (3), API reads.
   */
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  /** Relay loops working side by side while the outbox has a backlog (one when it does not). */
  OUTBOX_LOOPS: z.coerce.number().int().min(1).max(16).default(4),
  /**
   * Where the outbox relay runs: `thread` (a worker thread with its own pool of OUTBOX_LOOPS + 2
   * connections and its own Kafka producer, so publishing does not take the API's thread), or `inline`
   * (on the main thread, sharing its pool and producer).
   */
  OUTBOX_RELAY: z.enum(['thread', 'inline']).default('thread'),
  /** How often expired idempotency keys (older than 24 h) are deleted. */
  IDEMPOTENCY_PURGE_INTERVAL_MS: z.coerce.number().int().min(1000).default(10 * 60_000),
  /** Seeded on start when set: the demo tenant and its API key (what `npm start` prints). */
  DEMO_TENANT_ID: z.string().min(1).max(64).optional(),
  DEMO_API_KEY: z.string().min(20).optional(),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /** Bodies of `POST /v1/messages/batch` may be larger (10,000 recipients). */
  BATCH_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  /**
   * How long a successful API-key lookup is cached per replica. A key revoked with the admin CLI stops
   * working on every replica within this bound.
   */
  API_KEY_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** Per-tenant request rate (token bucket per replica); a tenant's own `rate_limit_per_second` wins. 0 = off. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(5_000),
  /**
   * The gateway config file the router routes by (carriers and routes). Ingest reads only its routes, to
   * show in `POST /v1/messages/preview` the route a message would take; unset, previews show no route.
   */
  GATEWAY_CONFIG_FILE: z.string().min(1).optional(),
  /** How often that file is checked for changes (the router's default interval). */
  INGEST_CONFIG_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(10_000),
};
export const loadIngestConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig('ingest', ingestConfigShape, env);
export type IngestConfig = ReturnType<typeof loadIngestConfig>;
