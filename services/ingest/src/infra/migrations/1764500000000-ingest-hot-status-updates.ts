import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Status updates of the read model become HOT updates (heap-only: no index entries written). Every message
 * gets several status events; `status` was a column of the batch index, and changing an indexed column
 * forces a new entry in every index of the table (five), for each event. The batch index keeps only
 * `batch_id` (the batch view reads the statuses from the rows it finds), and pages keep room for the
 * updated row versions (fillfactor; applies to pages written from now on).
 */
export class IngestHotStatusUpdates1764500000000 implements MigrationInterface {
  name = 'IngestHotStatusUpdates1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX messages_batch');
    await q.query('CREATE INDEX messages_batch ON messages (batch_id) WHERE batch_id IS NOT NULL');
    await q.query('ALTER TABLE messages SET (fillfactor = 70)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages RESET (fillfactor)');
    await q.query('DROP INDEX messages_batch');
    await q.query('CREATE INDEX messages_batch ON messages (batch_id, status) WHERE batch_id IS NOT NULL');
  }
}
