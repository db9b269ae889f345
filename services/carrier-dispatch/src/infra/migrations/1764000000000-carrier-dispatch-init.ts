import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CarrierDispatchInit1764000000000 implements MigrationInterface {
  name = 'CarrierDispatchInit1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // The submit ledger: one row per message part. A part whose submit_sm_resp was received (state
    // 'submitted') is never submitted again, whatever is redelivered, retried or restarted.
    await q.query(`
      CREATE TABLE submit_ledger (
        message_id uuid NOT NULL,
        part_index int NOT NULL,
        total_parts int NOT NULL,
        carrier_id text NOT NULL,
        attempt int NOT NULL,
        state text NOT NULL CHECK (state IN ('in_flight', 'submitted', 'failed')),
        carrier_message_id text,
        error text,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        submitted_at timestamptz,
        PRIMARY KEY (message_id, part_index)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE submit_ledger');
  }
}
