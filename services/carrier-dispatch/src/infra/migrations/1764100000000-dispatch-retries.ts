import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DispatchRetries1764100000000 implements MigrationInterface {
  name = 'DispatchRetries1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // Transient carrier errors wait here (not on a partition) until due; the scheduler republishes the
    // dispatch event on its lane topic. One row per message and router attempt counts the retries.
    await q.query(`
      CREATE TABLE dispatch_retries (
        message_id uuid NOT NULL,
        attempt int NOT NULL,
        lane text NOT NULL,
        retries int NOT NULL,
        state text NOT NULL CHECK (state IN ('scheduled', 'released')),
        due_at timestamptz NOT NULL,
        tenant_id text NOT NULL,
        payload jsonb NOT NULL,
        reason text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (message_id, attempt)
      )`);
    await q.query(`CREATE INDEX dispatch_retries_due ON dispatch_retries (due_at) WHERE state = 'scheduled'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE dispatch_retries');
  }
}
