import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { ApiKeyChangedV1, type ApiKeyChangedPayload } from '@sms/contracts';
import { apiKeyPrefix, generateApiKey, hashApiKey, type ApiKeyScope } from '../domain/api-key.js';

export interface AuthenticatedTenant {
  tenantId: string;
  sandbox: boolean;
  scopes: ApiKeyScope[];
  /** The tenant's own request rate, when it has one. */
  rateLimitPerSecond?: number;
}

export interface ApiKeyListing {
  id: string;
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  revokedAt: string | null;
}

/**
 * Tenants and their API keys. Every key change is also written to the outbox as an `api-key-changed`
 * event in the same transaction, so the compacted topic other services authenticate from never misses a
 * revocation (and never learns of a key that was rolled back).
 */
export class TenantsRepository {
  constructor(private readonly db: DataSource) {}

  async findByKeyHash(keyHash: string): Promise<AuthenticatedTenant | undefined> {
    const rows: { tenant_id: string; sandbox: boolean; scopes: ApiKeyScope[]; rate_limit_per_second: number | null }[] = await this.db.query(
      `SELECT k.tenant_id, t.sandbox, k.scopes, t.rate_limit_per_second FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
       WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [keyHash],
    );
    const row = rows[0];
    return row
      ? { tenantId: row.tenant_id, sandbox: row.sandbox, scopes: row.scopes, rateLimitPerSecond: row.rate_limit_per_second ?? undefined }
      : undefined;
  }

  async tenantExists(tenantId: string): Promise<{ sandbox: boolean } | undefined> {
    const rows: { sandbox: boolean }[] = await this.db.query('SELECT sandbox FROM tenants WHERE id = $1', [tenantId]);
    return rows[0];
  }

  async upsertTenant(tenantId: string, name: string, sandbox: boolean, rateLimitPerSecond?: number): Promise<void> {
    await this.db.query(
      `INSERT INTO tenants (id, name, sandbox, rate_limit_per_second) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sandbox = EXCLUDED.sandbox,
         rate_limit_per_second = coalesce(EXCLUDED.rate_limit_per_second, tenants.rate_limit_per_second)`,
      [tenantId, name, sandbox, rateLimitPerSecond ?? null],
    );
  }

  /** Stores a given key (hashed); idempotent for the same key. Used to seed the demo tenant. */
  async addKey(tenantId: string, key: string, scopes: ApiKeyScope[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows: { sandbox: boolean }[] = await tx.query(
        `WITH k AS (
           INSERT INTO api_keys (tenant_id, key_hash, key_prefix, scopes) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL, scopes = EXCLUDED.scopes
           RETURNING tenant_id)
         SELECT t.sandbox FROM k JOIN tenants t ON t.id = k.tenant_id`,
        [tenantId, hashApiKey(key), apiKeyPrefix(key), scopes],
      );
      await this.publishKeyChange(tx, tenantId, { keyHash: hashApiKey(key), keyPrefix: apiKeyPrefix(key), scopes, sandbox: rows[0]?.sandbox ?? false });
    });
  }

  /** Creates a random key for a tenant; the key itself is returned once and never stored. */
  async createKey(tenantId: string, scopes: ApiKeyScope[]): Promise<{ key: string; id: string; prefix: string }> {
    const tenant = await this.tenantExists(tenantId);
    if (!tenant) throw new Error(`tenant ${tenantId} does not exist`);
    const key = generateApiKey(tenant.sandbox);
    const prefix = apiKeyPrefix(key);
    const id = await this.db.transaction(async (tx) => {
      const rows: { id: string }[] = await tx.query(
        'INSERT INTO api_keys (tenant_id, key_hash, key_prefix, scopes) VALUES ($1, $2, $3, $4) RETURNING id',
        [tenantId, hashApiKey(key), prefix, scopes],
      );
      await this.publishKeyChange(tx, tenantId, { keyHash: hashApiKey(key), keyPrefix: prefix, scopes, sandbox: tenant.sandbox });
      return rows[0]!.id;
    });
    return { key, id, prefix };
  }

  /** Revokes by key prefix or key id; returns how many keys were revoked (a prefix shared by several active keys revokes none). */
  async revokeKey(keyPrefixOrId: string): Promise<number | 'ambiguous'> {
    return this.db.transaction(async (tx) => {
      const matches: { n: number }[] = await tx.query(
        'SELECT count(*)::int AS n FROM api_keys WHERE (key_prefix = $1 OR id::text = $1) AND revoked_at IS NULL',
        [keyPrefixOrId],
      );
      if (matches[0]!.n > 1) return 'ambiguous' as const;
      const rows: { tenant_id: string; key_hash: string; key_prefix: string; scopes: ApiKeyScope[]; sandbox: boolean; revoked_at: Date }[] =
        await tx.query(
          `WITH r AS (
             UPDATE api_keys SET revoked_at = now() WHERE (key_prefix = $1 OR id::text = $1) AND revoked_at IS NULL
             RETURNING tenant_id, key_hash, key_prefix, scopes, revoked_at)
           SELECT r.*, t.sandbox FROM r JOIN tenants t ON t.id = r.tenant_id`,
          [keyPrefixOrId],
        );
      for (const row of rows) {
        await this.publishKeyChange(tx, row.tenant_id, {
          keyHash: row.key_hash,
          keyPrefix: row.key_prefix,
          scopes: row.scopes,
          sandbox: row.sandbox,
          revokedAt: row.revoked_at.toISOString(),
        });
      }
      return rows.length;
    });
  }

  async listKeys(tenantId: string): Promise<ApiKeyListing[]> {
    const rows: { id: string; key_prefix: string; scopes: ApiKeyScope[]; created_at: Date; revoked_at: Date | null }[] = await this.db.query(
      'SELECT id, key_prefix, scopes, created_at, revoked_at FROM api_keys WHERE tenant_id = $1 ORDER BY created_at',
      [tenantId],
    );
    return rows.map((r) => ({
      id: r.id,
      prefix: r.key_prefix,
      scopes: r.scopes,
      createdAt: r.created_at.toISOString(),
      revokedAt: r.revoked_at ? r.revoked_at.toISOString() : null,
    }));
  }

  private async publishKeyChange(tx: EntityManager, tenantId: string, change: Omit<ApiKeyChangedPayload, 'changedAt'>): Promise<void> {
    const payload: ApiKeyChangedPayload = { ...change, changedAt: new Date().toISOString() };
    await tx.query('INSERT INTO outbox (topic, event_id, tenant_id, message_id, payload) VALUES ($1, $2, $3, NULL, $4)', [
      ApiKeyChangedV1.topic,
      randomUUID(),
      tenantId,
      JSON.stringify(payload),
    ]);
  }
}
