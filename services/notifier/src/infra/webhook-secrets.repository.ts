import type { DataSource } from 'typeorm';
import { generateWebhookSecret } from '../domain/webhook-signature.js';

/** Signing secrets per tenant (schema `notifier`). */
export class WebhookSecretsRepository {
  constructor(private readonly db: DataSource) {}

  /** Active secrets of each tenant, oldest first. */
  async activeFor(tenantIds: string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (tenantIds.length === 0) return result;
    const rows: { tenant_id: string; secret: string }[] = await this.db.query(
      `SELECT tenant_id, secret FROM webhook_secrets
       WHERE tenant_id = ANY($1::text[]) AND (expires_at IS NULL OR expires_at > now())
       ORDER BY tenant_id, created_at`,
      [tenantIds],
    );
    for (const row of rows) {
      const list = result.get(row.tenant_id) ?? [];
      list.push(row.secret);
      result.set(row.tenant_id, list);
    }
    return result;
  }

  /**
   * Returns the tenant's active secrets, generating one if it has none. The advisory lock makes two
   * replicas that meet a new tenant at once agree on one secret instead of each creating its own.
   */
  async ensureActive(tenantId: string): Promise<string[]> {
    return this.db.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhook-secret:${tenantId}`]);
      const existing: { secret: string }[] = await manager.query(
        `SELECT secret FROM webhook_secrets WHERE tenant_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at`,
        [tenantId],
      );
      if (existing.length > 0) return existing.map((r) => r.secret);
      const secret = generateWebhookSecret();
      await manager.query('INSERT INTO webhook_secrets (tenant_id, secret) VALUES ($1, $2)', [tenantId, secret]);
      return [secret];
    });
  }

  /** The tenant's active secrets with their expiry (one generated if it has none), oldest first. */
  async describe(tenantId: string): Promise<{ secret: string; createdAt: string; expiresAt: string | null }[]> {
    await this.ensureActive(tenantId);
    const rows: { secret: string; created_at: Date; expires_at: Date | null }[] = await this.db.query(
      `SELECT secret, created_at, expires_at FROM webhook_secrets
       WHERE tenant_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at`,
      [tenantId],
    );
    return rows.map((r) => ({
      secret: r.secret,
      createdAt: new Date(r.created_at).toISOString(),
      expiresAt: r.expires_at ? new Date(r.expires_at).toISOString() : null,
    }));
  }

  /**
   * Starts a rotation: a new secret signs from now on, and every secret active before it keeps signing
   * (receivers accept either) until `overlapMs` from now, then expires. A second rotation during the
   * overlap only shortens, never extends, the older secrets' lives.
   */
  async rotate(tenantId: string, overlapMs: number): Promise<{ secret: string; previousExpiresAt: string }> {
    return this.db.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhook-secret:${tenantId}`]);
      const [{ at }] = (await manager.query(`SELECT now() + make_interval(secs => $1::double precision / 1000) AS at`, [overlapMs])) as { at: Date }[];
      await manager.query(
        `UPDATE webhook_secrets SET expires_at = $2
         WHERE tenant_id = $1 AND (expires_at IS NULL OR expires_at > $2)`,
        [tenantId, at],
      );
      const secret = generateWebhookSecret();
      await manager.query('INSERT INTO webhook_secrets (tenant_id, secret) VALUES ($1, $2)', [tenantId, secret]);
      return { secret, previousExpiresAt: new Date(at).toISOString() };
    });
  }

  /** Makes `secret` an active secret of the tenant (used to seed the demo tenant's known secret). */
  async upsert(tenantId: string, secret: string): Promise<void> {
    await this.db.query(
      `INSERT INTO webhook_secrets (tenant_id, secret) VALUES ($1, $2)
       ON CONFLICT (tenant_id, secret) DO UPDATE SET expires_at = NULL`,
      [tenantId, secret],
    );
  }
}
