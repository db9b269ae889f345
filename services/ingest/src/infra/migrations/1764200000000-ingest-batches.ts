import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Batches (bulk sends), per-tenant rate limits, and the indexes the message list filters on. */
export class IngestBatches1764200000000 implements MigrationInterface {
  name = 'IngestBatches1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE batches (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        recipients int NOT NULL,
        accepted int NOT NULL,
        rejected int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('ALTER TABLE messages ADD COLUMN batch_id uuid');
    await q.query('ALTER TABLE messages ADD COLUMN sandbox boolean NOT NULL DEFAULT false');
    await q.query('CREATE INDEX messages_batch ON messages (batch_id, status) WHERE batch_id IS NOT NULL');
    await q.query('CREATE INDEX messages_tenant_reference ON messages (tenant_id, reference) WHERE reference IS NOT NULL');
    // Requests per second for this tenant; NULL takes the service default.
    await q.query('ALTER TABLE tenants ADD COLUMN rate_limit_per_second int');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenants DROP COLUMN rate_limit_per_second');
    await q.query('DROP INDEX messages_tenant_reference');
    await q.query('DROP INDEX messages_batch');
    await q.query('ALTER TABLE messages DROP COLUMN sandbox');
    await q.query('ALTER TABLE messages DROP COLUMN batch_id');
    await q.query('DROP TABLE batches');
  }
}
