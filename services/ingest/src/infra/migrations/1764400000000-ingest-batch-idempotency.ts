import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys for `POST /v1/messages/batch`: a key then stands for a batch, and its stored response
 * (the per-recipient outcomes, rejections included) is what a replay returns, so a row holds either a
 * message id or a batch id and its response.
 */
export class IngestBatchIdempotency1764400000000 implements MigrationInterface {
  name = 'IngestBatchIdempotency1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE idempotency_keys ALTER COLUMN message_id DROP NOT NULL');
    await q.query('ALTER TABLE idempotency_keys ADD COLUMN batch_id uuid');
    await q.query('ALTER TABLE idempotency_keys ADD COLUMN response jsonb');
    await q.query('ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_one_target CHECK ((message_id IS NULL) <> (batch_id IS NULL))');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DELETE FROM idempotency_keys WHERE message_id IS NULL');
    await q.query('ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_one_target');
    await q.query('ALTER TABLE idempotency_keys DROP COLUMN response');
    await q.query('ALTER TABLE idempotency_keys DROP COLUMN batch_id');
    await q.query('ALTER TABLE idempotency_keys ALTER COLUMN message_id SET NOT NULL');
  }
}
