import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RouterHeld1764300000002 implements MigrationInterface {
  name = 'RouterHeld1764300000002';

  async up(q: QueryRunner): Promise<void> {
    // Promotional messages held for the recipient's quiet hours; a poller routes them when due.
    await q.query(`
      CREATE TABLE held_messages (
        message_id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        envelope jsonb NOT NULL,
        trace_parent text,
        release_at timestamptz NOT NULL,
        held_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX held_messages_release_at ON held_messages (release_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE held_messages');
  }
}
