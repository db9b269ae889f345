// Expired idempotency keys are deleted (in chunks), keys still inside their 24 hours are kept.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLogger, openServiceDatabase } from '@sms/platform';
import { createTestDatabase } from '@sms/testing';
import type { DataSource } from 'typeorm';
import { IdempotencyKeyPurger } from './idempotency-key-purger.js';
import { ingestMigrations } from './migrations/index.js';

let database: { url: string; drop(): Promise<void> };
let db: DataSource;

before(async () => {
  database = await createTestDatabase('ingest_purge');
  db = await openServiceDatabase({ url: database.url, schema: 'ingest', migrations: ingestMigrations, applicationName: 'purge-test' });
});

after(async () => {
  await db?.destroy();
  await database?.drop();
});

test('keys older than 24 hours are deleted a chunk at a time; younger keys stay', async () => {
  const insert = (key: string, ageHours: number) =>
    db.query(`INSERT INTO idempotency_keys (tenant_id, key, request_hash, message_id, created_at) VALUES ('t', $1, 'h', $2, now() - make_interval(hours => $3))`, [key, randomUUID(), ageHours]);
  for (let i = 0; i < 7; i++) await insert(`old-${i}`, 25 + i);
  for (let i = 0; i < 3; i++) await insert(`new-${i}`, 23 - i);

  const purger = new IdempotencyKeyPurger(db, createLogger('purge', 'error'), { intervalMs: 60_000, retentionHours: 24, chunk: 2 });
  assert.equal(await purger.purge(), 7);
  const left = (await db.query<{ key: string }[]>('SELECT key FROM idempotency_keys ORDER BY key')).map((r) => r.key);
  assert.deepEqual(left, ['new-0', 'new-1', 'new-2']);
  assert.equal(await purger.purge(), 0, 'nothing left to delete');

  // A tiny test table is read sequentially anyway; with sequential scans off the plan shows the index exists and fits.
  const plan = await db.transaction(async (m) => {
    await m.query('SET LOCAL enable_seqscan = off');
    return m.query<{ 'QUERY PLAN': string }[]>("EXPLAIN SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' LIMIT 5000");
  });
  assert.match(plan.map((r) => r['QUERY PLAN']).join('\n'), /idempotency_keys_created/, 'the purge can use the created_at index');
});
