import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RetryTraceparent1764200000000 implements MigrationInterface {
  name = 'RetryTraceparent1764200000000';

  async up(q: QueryRunner): Promise<void> {
    // The W3C traceparent of the dispatch that failed: the republished retry continues its trace.
    await q.query('ALTER TABLE dispatch_retries ADD COLUMN traceparent text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE dispatch_retries DROP COLUMN traceparent');
  }
}
