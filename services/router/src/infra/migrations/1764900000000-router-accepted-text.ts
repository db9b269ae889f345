import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RouterAcceptedText1764900000000 implements MigrationInterface {
  name = 'RouterAcceptedText1764900000000';

  async up(q: QueryRunner): Promise<void> {
    // New rows keep the accepted payload as the JSON text the router already has, not jsonb: PostgreSQL
    // parsing and building jsonb was ~3 us of its ~20 us of CPU a routed message, and nothing queries
    // inside the payload (only failover reads it back, whole). A new nullable column instead of
    // `ALTER ... TYPE text`, so the upgrade does not rewrite (and lock) a large table; old rows keep
    // their jsonb and are read through COALESCE.
    await q.query('ALTER TABLE routed_messages ADD COLUMN accepted_text text');
    await q.query('ALTER TABLE routed_messages ALTER COLUMN accepted DROP NOT NULL');
    await q.query(`ALTER TABLE routed_messages ADD CONSTRAINT routed_messages_accepted_present
      CHECK (accepted IS NOT NULL OR accepted_text IS NOT NULL) NOT VALID`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('UPDATE routed_messages SET accepted = accepted_text::jsonb WHERE accepted IS NULL');
    await q.query('ALTER TABLE routed_messages DROP CONSTRAINT routed_messages_accepted_present');
    await q.query('ALTER TABLE routed_messages ALTER COLUMN accepted SET NOT NULL');
    await q.query('ALTER TABLE routed_messages DROP COLUMN accepted_text');
  }
}
