import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Part counts (total, delivered, failed) of a message and of each status event, as the status events
 * carry them, so `GET /v1/messages/{id}` can show how far a multipart message got. Nullable: events
 * from before this column, and statuses decided before any part was submitted, carry none.
 */
export class IngestMessageParts1764800000000 implements MigrationInterface {
  name = 'IngestMessageParts1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages ADD COLUMN parts jsonb');
    await q.query('ALTER TABLE message_status_history ADD COLUMN parts jsonb');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE message_status_history DROP COLUMN parts');
    await q.query('ALTER TABLE messages DROP COLUMN parts');
  }
}
