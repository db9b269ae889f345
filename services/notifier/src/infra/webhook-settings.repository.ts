import type { DataSource } from 'typeorm';

export interface WebhookSettings {
  includeBody: boolean;
  updatedAt: string | null;
}

/** Per-tenant webhook settings and the bodies kept for tenants that opted in (schema `notifier`). */
export class WebhookSettingsRepository {
  constructor(private readonly db: DataSource) {}

  async get(tenantId: string): Promise<WebhookSettings> {
    const rows: { include_body: boolean; updated_at: Date }[] = await this.db.query(
      'SELECT include_body, updated_at FROM webhook_settings WHERE tenant_id = $1',
      [tenantId],
    );
    const row = rows[0];
    return { includeBody: row?.include_body ?? false, updatedAt: row ? row.updated_at.toISOString() : null };
  }

  /** Opting out also deletes the bodies already kept: nothing of the tenant's messages stays behind. */
  async set(tenantId: string, includeBody: boolean): Promise<WebhookSettings> {
    return this.db.transaction(async (tx) => {
      const rows: { include_body: boolean; updated_at: Date }[] = await tx.query(
        `INSERT INTO webhook_settings (tenant_id, include_body, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (tenant_id) DO UPDATE SET include_body = EXCLUDED.include_body, updated_at = now()
         RETURNING include_body, updated_at`,
        [tenantId, includeBody],
      );
      if (!includeBody) await tx.query('DELETE FROM message_bodies WHERE tenant_id = $1', [tenantId]);
      return { includeBody: rows[0]!.include_body, updatedAt: rows[0]!.updated_at.toISOString() };
    });
  }

  /** Of these tenants, the ones that opted in to bodies in webhooks. */
  async optedIn(tenantIds: string[]): Promise<Set<string>> {
    if (tenantIds.length === 0) return new Set();
    const rows: { tenant_id: string }[] = await this.db.query(
      'SELECT tenant_id FROM webhook_settings WHERE tenant_id = ANY($1::text[]) AND include_body',
      [tenantIds],
    );
    return new Set(rows.map((r) => r.tenant_id));
  }

  /**
   * Keeps bodies; the tenant's opt-in is re-checked inside the statement, so an opt-out committed after
   * the caller's check does not let a body slip in.
   */
  async storeBodies(rows: { messageId: string; tenantId: string; body: string }[]): Promise<number> {
    if (rows.length === 0) return 0;
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO message_bodies (message_id, tenant_id, body)
       SELECT r.message_id, r.tenant_id, r.body
       FROM jsonb_to_recordset($1::jsonb) AS r(message_id uuid, tenant_id text, body text)
       JOIN webhook_settings s ON s.tenant_id = r.tenant_id AND s.include_body
       ON CONFLICT (message_id) DO NOTHING
       RETURNING message_id`,
      [JSON.stringify(rows.map((r) => ({ message_id: r.messageId, tenant_id: r.tenantId, body: r.body })))],
    );
    return inserted.length;
  }

  /** Deletes bodies older than the retention, a bounded batch at a time; returns how many went. */
  async purgeBodies(retentionMs: number, limit = 10_000): Promise<number> {
    // In a CTE: TypeORM returns [rows, count] for a top-level DELETE.
    const rows: { n: number }[] = await this.db.query(
      `WITH gone AS (
         DELETE FROM message_bodies WHERE message_id IN (
           SELECT message_id FROM message_bodies
           WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)
           LIMIT $2)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [retentionMs, limit],
    );
    return rows[0]?.n ?? 0;
  }
}
