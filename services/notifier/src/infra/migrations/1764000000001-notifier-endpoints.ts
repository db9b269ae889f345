import type { MigrationInterface, QueryRunner } from 'typeorm';

export class NotifierEndpoints1764000000001 implements MigrationInterface {
  name = 'NotifierEndpoints1764000000001';

  async up(q: QueryRunner): Promise<void> {
    // ingest owns API keys; this is notifier's copy of their state from the compacted api-key-changed
    // topic (hash only, never the key), so the webhook API authenticates without calling ingest.
    await q.query(`
      CREATE TABLE api_keys (
        key_hash text PRIMARY KEY,
        tenant_id text NOT NULL,
        scopes text[] NOT NULL,
        sandbox boolean NOT NULL,
        revoked_at timestamptz,
        changed_at timestamptz NOT NULL
      )`);
    // Tenant-level webhook endpoints. Every status event that produces a webhook is queued once per
    // endpoint (webhook_deliveries.target = endpoint id) with the same webhook_id as its callback delivery.
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        url text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, created_at)');
    // Dead letters are listed per tenant, newest first.
    await q.query(`CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (tenant_id, created_at DESC) WHERE status = 'dead'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX webhook_deliveries_dead');
    await q.query('DROP TABLE webhook_endpoints');
    await q.query('DROP TABLE api_keys');
  }
}
