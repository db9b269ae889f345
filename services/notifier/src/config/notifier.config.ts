import { z } from 'zod';
import { commonServiceShape, loadConfig } from '@sms/config';
import { finalStatuses, messageStatusSchema, type MessageStatus } from '@sms/contracts';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Comma list of statuses; unknown names are a configuration error rather than a silently dead filter. */
const statusListVar = z
  .string()
  .default([...finalStatuses].join(','))
  .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
  .pipe(z.array(messageStatusSchema).min(1))
  .transform((list): ReadonlySet<MessageStatus> => new Set(list));

/** Standard Webhooks secrets: `whsec_` + base64 of the HMAC key. */
export const webhookSecretVar = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, 'must be whsec_ followed by base64 (at least 12 bytes)');

export const notifierConfigShape = {
  ...commonServiceShape,
  HTTP_PORT: commonServiceShape.HTTP_PORT.default(8085),
  /** Status changes that produce a webhook. Intermediate statuses are noise for most senders. */
  WEBHOOK_STATUSES: statusListVar,
  /** A delivery succeeds only on a 2xx received within this time (connect, TLS and headers included). */
  WEBHOOK_TIMEOUT_MS: positiveInt(15_000),
  /** Webhook POSTs in flight across all endpoints. */
  WEBHOOK_CONCURRENCY: positiveInt(256),
  /**
   * Webhook POSTs in flight to one endpoint (scheme://host:port), so one slow receiver cannot take every slot.
   * One endpoint gets at most this many divided by its response time per second: at 8, a receiver answering
   * in 10 ms (a loaded machine) capped a tenant at 800 webhooks/s, below what the gateway accepts.
   */
  WEBHOOK_ENDPOINT_CONCURRENCY: positiveInt(32),
  /** Consecutive failures (5xx, timeout, connection error) that open an endpoint's breaker. */
  WEBHOOK_BREAKER_THRESHOLD: positiveInt(5),
  /** How long an open breaker keeps an endpoint's deliveries waiting before one probe is let through. */
  WEBHOOK_BREAKER_COOLDOWN_MS: positiveInt(30_000),
  /** Largest number of due deliveries claimed per query. */
  WEBHOOK_CLAIM_BATCH: positiveInt(200),
  /** Fallback poll when nothing woke the dispatcher (other replicas' rows, leases that expired). */
  WEBHOOK_POLL_INTERVAL_MS: positiveInt(1000),
  /** Multiplies the retry schedule (5 s ... 10 h); tests shrink it, e.g. 0.001. */
  WEBHOOK_RETRY_SCALE: z.coerce.number().positive().max(100).default(1),
  /** After a secret rotation, the older secrets keep signing this long (receivers move to the new one). */
  WEBHOOK_SECRET_ROTATION_OVERLAP_S: z.coerce.number().int().min(0).max(30 * 86_400).default(86_400),
  /** Signing secrets are re-read this often: a rotation shows in webhooks within this time. */
  WEBHOOK_SECRET_CACHE_MS: positiveInt(10_000),
  /**
   * How long message bodies of opted-in tenants are kept for their webhooks (the whole retry schedule is
   * about 28 h); a webhook sent or replayed later carries `body: null`.
   */
  WEBHOOK_BODY_RETENTION_H: z.coerce.number().positive().max(24 * 30).default(48),
  /** An opted-in tenant's webhook waits up to this long for its body to arrive (it trails the status only in a backlog). */
  WEBHOOK_BODY_WAIT_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Direct path: the consumer POSTs a batch's fresh webhooks at once and waits this long for them before
   * queueing the unfinished ones and committing its offsets; 0 queues every webhook first (claim loop only).
   */
  WEBHOOK_DIRECT_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  /**
   * How long the SSRF verdict for a URL (the name's checked address) is reused; the POST still connects only
   * to that checked address. 0 resolves and checks on every attempt.
   */
  WEBHOOK_GUARD_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  /** Webhook endpoints one tenant may register. */
  WEBHOOK_MAX_ENDPOINTS_PER_TENANT: positiveInt(20),
  /** Seeds a known signing secret for one tenant (the demo tenant of `npm start`). */
  DEMO_TENANT_ID: z.string().min(1).max(64).optional(),
  DEMO_WEBHOOK_SECRET: webhookSecretVar.optional(),
};

export type NotifierConfig = ReturnType<typeof loadNotifierConfig>;
export const loadNotifierConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig('notifier', notifierConfigShape, env);
