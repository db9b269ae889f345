import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RouterInit1764000000000 implements MigrationInterface {
  name = 'RouterInit1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per message the router has seen: dedupes redelivered accepted events and remembers the
    // route's remaining carriers for failover.
    await q.query(`
      CREATE TABLE routed_messages (
        message_id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        route_id text,
        carriers text[] NOT NULL DEFAULT '{}',
        attempt int NOT NULL DEFAULT 0,
        accepted jsonb NOT NULL,
        trace_parent text,
        final boolean NOT NULL DEFAULT false,
        routed_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE routed_messages');
  }
}
