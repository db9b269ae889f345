import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RouterAttempts1764300000000 implements MigrationInterface {
  name = 'RouterAttempts1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // The outcome of each failed attempt, so an exhausted route ends with the reason of every carrier tried.
    await q.query(`ALTER TABLE routed_messages ADD COLUMN failures jsonb NOT NULL DEFAULT '[]'::jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE routed_messages DROP COLUMN failures');
  }
}
