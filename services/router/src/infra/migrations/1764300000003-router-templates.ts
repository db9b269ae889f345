import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RouterTemplates1764300000003 implements MigrationInterface {
  name = 'RouterTemplates1764300000003';

  async up(q: QueryRunner): Promise<void> {
    // Templates a tenant had approved per country (where the regulator requires approved content).
    await q.query(`
      CREATE TABLE approved_templates (
        id bigserial PRIMARY KEY,
        tenant_id text NOT NULL,
        country text NOT NULL,
        template text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, country, template)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE approved_templates');
  }
}
