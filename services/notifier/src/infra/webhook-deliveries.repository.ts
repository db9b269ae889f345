import type { DataSource } from 'typeorm';
import type { WebhookPayload } from '../domain/webhook-payload.js';

export interface NewDelivery {
  webhookId: string;
  target: string;
  tenantId: string;
  messageId: string;
  url: string;
  endpoint: string;
  payload: WebhookPayload;
  traceParent: string | null;
}

/** A row the dispatcher leased for one attempt; `attempts` already counts this attempt. */
export interface ClaimedDelivery {
  webhookId: string;
  target: string;
  tenantId: string;
  messageId: string;
  url: string;
  endpoint: string;
  payload: WebhookPayload;
  traceParent: string | null;
  attempts: number;
  createdAt: Date;
  /** The tenant opted in to message bodies in webhooks (read at claim time, so an opt-out applies at once). */
  includeBody: boolean;
  /** The message body, kept only for opted-in tenants (message_bodies), else null. */
  body: string | null;
}

/**
 * Result of an attempt (or of a postponement) to write back. Writes are fenced on `claimedAttempts`: a
 * result that arrives after its lease expired and the row was claimed again is dropped.
 */
export type DeliveryUpdate = {
  webhookId: string;
  target: string;
  claimedAttempts: number;
} & (
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'gone'; statusCode: number }
  | { kind: 'retry'; retryInMs: number; statusCode: number | null; error: string }
  | { kind: 'dead'; deadReason: string; statusCode: number | null; error: string }
  /** Not attempted (endpoint busy or breaker open, or shutdown): give the attempt back. */
  | { kind: 'postpone'; retryInMs: number }
);

/**
 * A delivery the consumer attempted itself (the direct path), to be written in its state after that
 * attempt. `attempts` is 1 for an attempt that ran (or still runs: `leased`), 0 for one that never started.
 */
export interface RecordedDelivery extends NewDelivery {
  status: 'pending' | 'delivered' | 'dead' | 'gone';
  attempts: 0 | 1;
  /** From now until the row is due (a retry, a postponement, or the lease of an attempt still running). */
  dueInMs: number;
  statusCode: number | null;
  error: string | null;
  deadReason: string | null;
}

/** The notifier's queue table (schema `notifier`), read and written in batches. */
export class WebhookDeliveriesRepository {
  constructor(private readonly db: DataSource) {}

  /** Inserts new deliveries; a redelivered status event conflicts on its webhook id and is skipped. */
  async insertNew(rows: NewDelivery[]): Promise<number> {
    if (rows.length === 0) return 0;
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO webhook_deliveries (webhook_id, target, tenant_id, message_id, url, endpoint, payload, trace_parent)
       SELECT r.webhook_id, r.target, r.tenant_id, r.message_id, r.url, r.endpoint, r.payload, r.trace_parent
       FROM jsonb_to_recordset($1::jsonb) AS r(webhook_id text, target text, tenant_id text, message_id uuid, url text,
                                               endpoint text, payload jsonb, trace_parent text)
       ON CONFLICT (webhook_id, target) DO NOTHING
       RETURNING webhook_id`,
      [
        JSON.stringify(
          rows.map((r) => ({
            webhook_id: r.webhookId,
            target: r.target,
            tenant_id: r.tenantId,
            message_id: r.messageId,
            url: r.url,
            endpoint: r.endpoint,
            payload: r.payload,
            trace_parent: r.traceParent,
          })),
        ),
      ],
    );
    return inserted.length;
  }

  /**
   * For the direct path, one round trip: which of these (webhook id, target) pairs are already queued or
   * done (a redelivered event: not sent again), and which tenants opted in to bodies (their webhooks may
   * have to wait for the body, so they take the queue).
   */
  async directCheck(keys: { webhookId: string; target: string }[], tenantIds: string[]): Promise<{ known: Set<string>; optedIn: Set<string> }> {
    const known = new Set<string>();
    const optedIn = new Set<string>();
    if (keys.length === 0) return { known, optedIn };
    const rows: { kind: 'known' | 'opted_in'; a: string; b: string | null }[] = await this.db.query(
      `SELECT 'known' AS kind, d.webhook_id AS a, d.target AS b
       FROM webhook_deliveries d JOIN unnest($1::text[], $2::text[]) AS k(webhook_id, target)
         ON d.webhook_id = k.webhook_id AND d.target = k.target
       UNION ALL
       SELECT 'opted_in', tenant_id, NULL FROM webhook_settings WHERE tenant_id = ANY($3::text[]) AND include_body`,
      [keys.map((k) => k.webhookId), keys.map((k) => k.target), tenantIds],
    );
    for (const r of rows) {
      if (r.kind === 'known') known.add(`${r.a}\u0000${r.b}`);
      else optedIn.add(r.a);
    }
    return { known, optedIn };
  }

  /**
   * Writes direct-path deliveries in their state after the attempt, in one statement. A row that exists
   * already (a redelivery raced with this one) keeps its state. Returns the keys actually inserted: a
   * `leased` row that was not inserted must not have a late result applied to someone else's lease.
   */
  async insertRecorded(rows: RecordedDelivery[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const inserted: { webhook_id: string; target: string }[] = await this.db.query(
      `INSERT INTO webhook_deliveries (webhook_id, target, tenant_id, message_id, url, endpoint, payload, trace_parent,
                                       status, attempts, next_attempt_at, last_status_code, last_error, dead_reason, delivered_at)
       SELECT r.webhook_id, r.target, r.tenant_id, r.message_id, r.url, r.endpoint, r.payload, r.trace_parent,
              r.status, r.attempts, now() + make_interval(secs => r.due_in_ms / 1000.0), r.status_code, r.error, r.dead_reason,
              CASE WHEN r.status = 'delivered' THEN now() END
       FROM jsonb_to_recordset($1::jsonb) AS r(webhook_id text, target text, tenant_id text, message_id uuid, url text,
                                               endpoint text, payload jsonb, trace_parent text, status text, attempts int,
                                               due_in_ms double precision, status_code int, error text, dead_reason text)
       ON CONFLICT (webhook_id, target) DO NOTHING
       RETURNING webhook_id, target`,
      [
        JSON.stringify(
          rows.map((r) => ({
            webhook_id: r.webhookId,
            target: r.target,
            tenant_id: r.tenantId,
            message_id: r.messageId,
            url: r.url,
            endpoint: r.endpoint,
            payload: r.payload,
            trace_parent: r.traceParent,
            status: r.status,
            attempts: r.attempts,
            due_in_ms: r.dueInMs,
            status_code: r.statusCode,
            error: r.error === null ? null : r.error.slice(0, 500),
            dead_reason: r.deadReason,
          })),
        ),
      ],
    );
    return new Set(inserted.map((r) => `${r.webhook_id}\u0000${r.target}`));
  }

  /**
   * Leases up to `limit` due deliveries: counts the attempt and moves next_attempt_at past the lease, so
   * other replicas (SKIP LOCKED) and later polls leave them alone while the POST runs. If this process dies
   * mid-attempt the lease runs out and the row is due again (at-least-once).
   *
   * At most `room.default` rows per endpoint, or the endpoint's own entry in `room.byEndpoint` (0 = leave its
   * rows alone): rows the dispatcher could not start soon would only be written back as postponed, and with
   * one busy endpoint that was one claim and one write-back per webhook sent (the load harness's laggard).
   * The per-endpoint cut is taken over the oldest `candidates` due rows of endpoints that have room.
   */
  async claimDue(
    limit: number,
    room: { default: number; byEndpoint: ReadonlyMap<string, number> },
    leaseMs: number,
    candidates = Math.max(limit * 4, 1000),
  ): Promise<ClaimedDelivery[]> {
    if (limit <= 0 || room.default <= 0) return [];
    const full = [...room.byEndpoint].filter(([, r]) => r <= 0).map(([e]) => e);
    const partial = [...room.byEndpoint].filter(([, r]) => r > 0);
    const rows: {
      webhook_id: string;
      target: string;
      tenant_id: string;
      message_id: string;
      url: string;
      endpoint: string;
      payload: WebhookPayload;
      trace_parent: string | null;
      attempts: number;
      created_at: Date;
      include_body: boolean | null;
      body: string | null;
    }[] = await this.db.query(
      // The UPDATE is wrapped in a SELECT because TypeORM returns [rows, count] for a top-level UPDATE.
      // The window function ranks candidates per endpoint without locking (FOR UPDATE cannot sit beside a
      // window); the locking SELECT then re-checks the row is still pending and due.
      `WITH room AS (
         SELECT * FROM unnest($4::text[], $5::int[]) AS r(endpoint, room)
       ), candidate AS (
         SELECT c.webhook_id, c.target, c.endpoint,
                row_number() OVER (PARTITION BY c.endpoint ORDER BY c.next_attempt_at) AS rank
         FROM (SELECT webhook_id, target, endpoint, next_attempt_at FROM webhook_deliveries
               WHERE status = 'pending' AND next_attempt_at <= now() AND NOT (endpoint = ANY($2::text[]))
               ORDER BY next_attempt_at
               LIMIT $6) c
       ), due AS (
         SELECT d.webhook_id, d.target FROM webhook_deliveries d
         JOIN candidate c ON c.webhook_id = d.webhook_id AND c.target = d.target
         LEFT JOIN room ON room.endpoint = c.endpoint
         WHERE c.rank <= COALESCE(room.room, $7) AND d.status = 'pending' AND d.next_attempt_at <= now()
         ORDER BY d.next_attempt_at
         LIMIT $1
         FOR UPDATE OF d SKIP LOCKED
       ), claimed AS (
         UPDATE webhook_deliveries d
         SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
         FROM due WHERE d.webhook_id = due.webhook_id AND d.target = due.target
         RETURNING d.webhook_id, d.target, d.tenant_id, d.message_id, d.url, d.endpoint, d.payload, d.trace_parent,
                   d.attempts, d.created_at
       )
       SELECT claimed.*, s.include_body, b.body FROM claimed
       LEFT JOIN webhook_settings s ON s.tenant_id = claimed.tenant_id AND s.include_body
       LEFT JOIN message_bodies b ON s.include_body AND b.message_id = claimed.message_id AND b.tenant_id = claimed.tenant_id`,
      [limit, full, leaseMs, partial.map(([e]) => e), partial.map(([, r]) => r), candidates, room.default],
    );
    return rows.map((r) => ({
      webhookId: r.webhook_id,
      target: r.target,
      tenantId: r.tenant_id,
      messageId: r.message_id,
      url: r.url,
      endpoint: r.endpoint,
      payload: r.payload,
      traceParent: r.trace_parent,
      attempts: r.attempts,
      createdAt: r.created_at,
      includeBody: r.include_body === true,
      body: r.include_body === true ? r.body : null,
    }));
  }

  /** Writes a batch of attempt results in one statement. */
  async applyUpdates(updates: DeliveryUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const rows = updates.map((u) => ({
      webhook_id: u.webhookId,
      target: u.target,
      claimed_attempts: u.claimedAttempts,
      kind: u.kind,
      status: u.kind === 'retry' || u.kind === 'postpone' ? 'pending' : u.kind,
      retry_in_ms: u.kind === 'retry' || u.kind === 'postpone' ? u.retryInMs : null,
      status_code: 'statusCode' in u ? u.statusCode : null,
      error: 'error' in u ? u.error.slice(0, 500) : null,
      dead_reason: u.kind === 'dead' ? u.deadReason : null,
    }));
    await this.db.query(
      `UPDATE webhook_deliveries d SET
         status = r.status,
         attempts = CASE WHEN r.kind = 'postpone' THEN d.attempts - 1 ELSE d.attempts END,
         next_attempt_at = CASE WHEN r.retry_in_ms IS NULL THEN d.next_attempt_at
                                ELSE now() + make_interval(secs => r.retry_in_ms / 1000.0) END,
         last_status_code = CASE WHEN r.kind = 'postpone' THEN d.last_status_code ELSE r.status_code END,
         last_error = CASE WHEN r.kind = 'postpone' THEN d.last_error ELSE r.error END,
         dead_reason = r.dead_reason,
         delivered_at = CASE WHEN r.kind = 'delivered' THEN now() ELSE d.delivered_at END
       FROM jsonb_to_recordset($1::jsonb) AS r(webhook_id text, target text, claimed_attempts int, kind text, status text,
                                               retry_in_ms double precision, status_code int, error text, dead_reason text)
       WHERE d.webhook_id = r.webhook_id AND d.target = r.target AND d.attempts = r.claimed_attempts AND d.status = 'pending'`,
      [JSON.stringify(rows)],
    );
  }
}
