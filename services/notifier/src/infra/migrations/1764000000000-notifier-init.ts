import type { MigrationInterface, QueryRunner } from 'typeorm';

export class NotifierInit1764000000000 implements MigrationInterface {
  name = 'NotifierInit1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // Signing secrets per tenant. Two rows without (or before) expiry = a rotation in progress: both sign.
    await q.query(`
      CREATE TABLE webhook_secrets (
        tenant_id text NOT NULL,
        secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        PRIMARY KEY (tenant_id, secret)
      )`);
    // The durable webhook queue and its history. One row per (status event, target): `target` is
    // 'callback' for the message's own callbackUrl; tenant-level endpoints (a later issue) will add rows
    // with their endpoint id as target and the same webhook_id, as Standard Webhooks expects.
    // `endpoint` (scheme://host:port) lets the dispatcher skip endpoints whose breaker is open.
    await q.query(`
      CREATE TABLE webhook_deliveries (
        webhook_id text NOT NULL,
        target text NOT NULL DEFAULT 'callback',
        tenant_id text NOT NULL,
        message_id uuid NOT NULL,
        url text NOT NULL,
        endpoint text NOT NULL,
        payload jsonb NOT NULL,
        trace_parent text,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead', 'gone')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_status_code int,
        last_error text,
        dead_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        PRIMARY KEY (webhook_id, target)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX webhook_deliveries_message ON webhook_deliveries (tenant_id, message_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_deliveries');
    await q.query('DROP TABLE webhook_secrets');
  }
}
