import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  createdAt: string;
}

export interface DeadLetter {
  webhookId: string;
  /** `callback` (the message's callbackUrl) or the endpoint id. */
  target: string;
  messageId: string;
  url: string;
  status: string;
  attempts: number;
  deadReason: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
}

/**
 * Tenant endpoints and the tenant's view of dead deliveries. Every query takes the tenant id first and
 * filters on it: a key of one tenant can never see or touch another tenant's rows.
 */
export class WebhookEndpointsRepository {
  constructor(private readonly db: DataSource) {}

  async create(tenantId: string, url: string, description: string | null, maxPerTenant: number): Promise<WebhookEndpoint | 'limit'> {
    return this.db.transaction(async (m) => {
      // Serialises creates of one tenant so the cap holds under concurrent requests.
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhook-endpoints:${tenantId}`]);
      const [{ count }] = (await m.query('SELECT count(*)::int AS count FROM webhook_endpoints WHERE tenant_id = $1', [tenantId])) as { count: number }[];
      if (count >= maxPerTenant) return 'limit';
      const rows: EndpointRow[] = await m.query(
        `INSERT INTO webhook_endpoints (id, tenant_id, url, description) VALUES ($1, $2, $3, $4)
         RETURNING id, url, description, created_at`,
        [randomUUID(), tenantId, url, description],
      );
      return toEndpoint(rows[0]!);
    });
  }

  async list(tenantId: string): Promise<WebhookEndpoint[]> {
    const rows: EndpointRow[] = await this.db.query(
      'SELECT id, url, description, created_at FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id',
      [tenantId],
    );
    return rows.map(toEndpoint);
  }

  /** Endpoints of each tenant, for fan-out of one consumed batch. */
  async forTenants(tenantIds: string[]): Promise<Map<string, { id: string; url: string }[]>> {
    const result = new Map<string, { id: string; url: string }[]>();
    if (tenantIds.length === 0) return result;
    const rows: { id: string; tenant_id: string; url: string }[] = await this.db.query(
      'SELECT id, tenant_id, url FROM webhook_endpoints WHERE tenant_id = ANY($1::text[]) ORDER BY created_at, id',
      [tenantIds],
    );
    for (const row of rows) {
      const list = result.get(row.tenant_id) ?? [];
      list.push({ id: row.id, url: row.url });
      result.set(row.tenant_id, list);
    }
    return result;
  }

  /** Deletes the endpoint; its deliveries still pending are given up (`endpoint_deleted`), not sent. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    return this.db.transaction(async (m) => {
      // Wrapped in a SELECT: TypeORM returns [rows, count] for a top-level DELETE.
      const deleted: unknown[] = await m.query(
        'WITH d AS (DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 RETURNING id) SELECT id FROM d',
        [tenantId, id],
      );
      if (deleted.length === 0) return false;
      await m.query(
        `UPDATE webhook_deliveries SET status = 'dead', dead_reason = 'endpoint_deleted'
         WHERE tenant_id = $1 AND target = $2 AND status = 'pending'`,
        [tenantId, id],
      );
      return true;
    });
  }

  async deadLetters(tenantId: string, limit: number, before: string | undefined): Promise<DeadLetter[]> {
    const rows: DeadLetterRow[] = await this.db.query(
      `SELECT webhook_id, target, message_id, url, payload->'data'->>'status' AS status, attempts, dead_reason,
              last_status_code, last_error, created_at
       FROM webhook_deliveries
       WHERE tenant_id = $1 AND status = 'dead' AND ($3::timestamptz IS NULL OR created_at < $3::timestamptz)
       ORDER BY created_at DESC
       LIMIT $2`,
      [tenantId, limit, before ?? null],
    );
    return rows.map((r) => ({
      webhookId: r.webhook_id,
      target: r.target,
      messageId: r.message_id,
      url: r.url,
      status: r.status,
      attempts: r.attempts,
      deadReason: r.dead_reason,
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /**
   * Puts dead deliveries back in the queue with a fresh attempt budget (all of the tenant's, or those
   * with the given webhook ids), at most `limit` per call. Deliveries to a deleted endpoint stay dead.
   */
  async replay(tenantId: string, webhookIds: string[] | undefined, limit: number): Promise<{ webhookId: string; target: string }[]> {
    const rows: { webhook_id: string; target: string }[] = await this.db.query(
      `WITH picked AS (
         SELECT d.webhook_id, d.target FROM webhook_deliveries d
         WHERE d.tenant_id = $1 AND d.status = 'dead' AND d.dead_reason IS DISTINCT FROM 'endpoint_deleted'
           AND ($2::text[] IS NULL OR d.webhook_id = ANY($2::text[]))
           AND (d.target = 'callback' OR EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = $1 AND e.id::text = d.target))
         ORDER BY d.created_at
         LIMIT $3
         FOR UPDATE SKIP LOCKED
       ), replayed AS (
         UPDATE webhook_deliveries d
         SET status = 'pending', attempts = 0, next_attempt_at = now(), dead_reason = NULL
         FROM picked WHERE d.webhook_id = picked.webhook_id AND d.target = picked.target
         RETURNING d.webhook_id, d.target
       )
       SELECT * FROM replayed`,
      [tenantId, webhookIds ?? null, limit],
    );
    return rows.map((r) => ({ webhookId: r.webhook_id, target: r.target }));
  }
}

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  created_at: Date;
}

interface DeadLetterRow {
  webhook_id: string;
  target: string;
  message_id: string;
  url: string;
  status: string;
  attempts: number;
  dead_reason: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
}

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  description: r.description,
  createdAt: new Date(r.created_at).toISOString(),
});
