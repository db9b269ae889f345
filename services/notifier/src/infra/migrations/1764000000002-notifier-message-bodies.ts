import type { MigrationInterface, QueryRunner } from 'typeorm';

export class NotifierMessageBodies1764000000002 implements MigrationInterface {
  name = 'NotifierMessageBodies1764000000002';

  async up(q: QueryRunner): Promise<void> {
    // Per-tenant webhook settings. `include_body` is the opt-in to receive the message body in webhooks;
    // without a row (the default) no body is ever stored or sent.
    await q.query(`
      CREATE TABLE webhook_settings (
        tenant_id text PRIMARY KEY,
        include_body boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Bodies of opted-in tenants' messages only, kept for WEBHOOK_BODY_RETENTION_H and joined into the
    // webhook at send time: the one place a body lives in notifier (never in webhook_deliveries.payload),
    // so a purge or an opt-out removes it everywhere at once.
    await q.query(`
      CREATE TABLE message_bodies (
        message_id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX message_bodies_created ON message_bodies (created_at)');
    await q.query('CREATE INDEX message_bodies_tenant ON message_bodies (tenant_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE message_bodies');
    await q.query('DROP TABLE webhook_settings');
  }
}
