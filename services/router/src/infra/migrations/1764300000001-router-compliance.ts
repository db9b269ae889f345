import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RouterCompliance1764300000001 implements MigrationInterface {
  name = 'RouterCompliance1764300000001';

  async up(q: QueryRunner): Promise<void> {
    // Recipients who asked a tenant to stop (STOP by MO, or the admin API). Numbers are E.164.
    await q.query(`
      CREATE TABLE opt_outs (
        tenant_id text NOT NULL,
        msisdn text NOT NULL,
        source text NOT NULL,
        keyword text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, msisdn)
      )`);
    // Sender ids a tenant registered: maps an MO's destination (our sender number) to its tenant, and
    // says in which countries the tenant may send from it (empty: every country).
    await q.query(`
      CREATE TABLE registered_senders (
        tenant_id text NOT NULL,
        sender text NOT NULL,
        countries text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, sender)
      )`);
    await q.query('CREATE INDEX registered_senders_sender ON registered_senders (sender)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE registered_senders');
    await q.query('DROP TABLE opt_outs');
  }
}
