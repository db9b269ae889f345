import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Lets the purge of expired idempotency keys find them without reading the whole table. */
export class IngestIdempotencyKeyExpiry1764700000000 implements MigrationInterface {
  name = 'IngestIdempotencyKeyExpiry1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX idempotency_keys_created');
  }
}
