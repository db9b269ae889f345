import type { DataSource } from 'typeorm';
import { apiKeyPrefix, hashApiKey, type ApiKeyScope } from '../domain/api-key.js';

export interface AuthenticatedTenant {
  tenantId: string;
  sandbox: boolean;
  scopes: ApiKeyScope[];
}

export class TenantsRepository {
  constructor(private readonly db: DataSource) {}

  async findByKeyHash(keyHash: string): Promise<AuthenticatedTenant | undefined> {
    const rows: { tenant_id: string; sandbox: boolean; scopes: ApiKeyScope[] }[] = await this.db.query(
      `SELECT k.tenant_id, t.sandbox, k.scopes FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
       WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [keyHash],
    );
    const row = rows[0];
    return row ? { tenantId: row.tenant_id, sandbox: row.sandbox, scopes: row.scopes } : undefined;
  }

  async tenantExists(tenantId: string): Promise<{ sandbox: boolean } | undefined> {
    const rows: { sandbox: boolean }[] = await this.db.query('SELECT sandbox FROM tenants WHERE id = $1', [tenantId]);
    return rows[0];
  }

  async upsertTenant(tenantId: string, name: string, sandbox: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO tenants (id, name, sandbox) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sandbox = EXCLUDED.sandbox`,
      [tenantId, name, sandbox],
    );
  }

  /** Stores a key (hashed); idempotent for the same key. */
  async addKey(tenantId: string, key: string, scopes: ApiKeyScope[]): Promise<void> {
    await this.db.query(
      `INSERT INTO api_keys (tenant_id, key_hash, key_prefix, scopes) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL, scopes = EXCLUDED.scopes`,
      [tenantId, hashApiKey(key), apiKeyPrefix(key), scopes],
    );
  }

  async revokeKey(keyPrefixOrId: string): Promise<number> {
    const rows: unknown[] = await this.db.query(
      `WITH r AS (UPDATE api_keys SET revoked_at = now() WHERE (key_prefix = $1 OR id::text = $1) AND revoked_at IS NULL RETURNING id)
       SELECT id FROM r`,
      [keyPrefixOrId],
    );
    return rows.length;
  }
}
