import type { DataSource } from 'typeorm';

export interface ApiKeyState {
  keyHash: string;
  tenantId: string;
  scopes: string[];
  sandbox: boolean;
  revokedAt: string | null;
  changedAt: string;
}

export interface AuthenticatedKey {
  tenantId: string;
  scopes: string[];
  sandbox: boolean;
}

/** notifier's copy of ingest's API keys (hash, tenant, scopes, revocation), fed by ApiKeyChangedV1. */
export class ApiKeysRepository {
  constructor(private readonly db: DataSource) {}

  /** Applies key states; an older state (by changedAt) never overwrites a newer one (redelivery, replays). */
  async apply(states: ApiKeyState[]): Promise<void> {
    if (states.length === 0) return;
    await this.db.query(
      `INSERT INTO api_keys (key_hash, tenant_id, scopes, sandbox, revoked_at, changed_at)
       SELECT r.key_hash, r.tenant_id, r.scopes, r.sandbox, r.revoked_at, r.changed_at
       FROM jsonb_to_recordset($1::jsonb) AS r(key_hash text, tenant_id text, scopes text[], sandbox boolean,
                                               revoked_at timestamptz, changed_at timestamptz)
       ON CONFLICT (key_hash) DO UPDATE SET
         tenant_id = EXCLUDED.tenant_id, scopes = EXCLUDED.scopes, sandbox = EXCLUDED.sandbox,
         revoked_at = EXCLUDED.revoked_at, changed_at = EXCLUDED.changed_at
       WHERE api_keys.changed_at <= EXCLUDED.changed_at`,
      [
        JSON.stringify(
          states.map((s) => ({
            key_hash: s.keyHash,
            tenant_id: s.tenantId,
            scopes: s.scopes,
            sandbox: s.sandbox,
            revoked_at: s.revokedAt,
            changed_at: s.changedAt,
          })),
        ),
      ],
    );
  }

  /** The key's tenant and scopes, or undefined when it is unknown or revoked. */
  async findActive(keyHash: string): Promise<AuthenticatedKey | undefined> {
    const rows: { tenant_id: string; scopes: string[]; sandbox: boolean }[] = await this.db.query(
      `SELECT tenant_id, scopes, sandbox FROM api_keys WHERE key_hash = $1 AND (revoked_at IS NULL OR revoked_at > now())`,
      [keyHash],
    );
    const row = rows[0];
    return row ? { tenantId: row.tenant_id, scopes: row.scopes, sandbox: row.sandbox } : undefined;
  }
}
