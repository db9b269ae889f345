import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { SubmitLedgerRepository } from './submit-ledger.repository.js';

/** A DataSource whose UPDATEs finish only when the test says so, recording the rows of each. */
function heldDatabase() {
  const writes: { rows: string[]; finish: () => void }[] = [];
  const db = {
    query: (_sql: string, [json]: [string]) =>
      new Promise<void>((resolve) => {
        const rows = (JSON.parse(json) as { message_id: string }[]).map((r) => r.message_id);
        writes.push({ rows, finish: () => resolve() });
      }),
  } as unknown as DataSource;
  return { db, writes };
}

const outcome = (messageId: string) => ({
  messageId,
  partIndex: 0,
  state: 'submitted' as const,
  carrierMessageId: 'c1',
});
const settledWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

test('an OTP outcome is written while a promotional write is still under way, not after it', async () => {
  const { db, writes } = heldDatabase();
  const ledger = new SubmitLedgerRepository(db);
  const promotional = ledger.recordSoon(outcome('promo-1'), 'promotional');
  const otp = ledger.recordSoon(outcome('otp-1'), 'otp');
  await new Promise((resolve) => setImmediate(resolve));

  // Both lanes' writes started; the OTP one finishes while the promotional one is still held.
  assert.deepEqual(
    writes.map((w) => w.rows),
    [['promo-1'], ['otp-1']],
  );
  writes[1]!.finish();
  assert.equal(await settledWithin(otp, 500), true);
  assert.equal(await settledWithin(promotional, 50), false);
  writes[0]!.finish();
  await promotional;
});

test('within a lane, outcomes arriving during a write go together in the next one', async () => {
  const { db, writes } = heldDatabase();
  const ledger = new SubmitLedgerRepository(db);
  const first = ledger.recordSoon(outcome('a'), 'transactional');
  const later = [
    ledger.recordSoon(outcome('b'), 'transactional'),
    ledger.recordSoon(outcome('c'), 'transactional'),
  ];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    writes.map((w) => w.rows),
    [['a']],
  );
  writes[0]!.finish();
  await first;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    writes.map((w) => w.rows),
    [['a'], ['b', 'c']],
  );
  writes[1]!.finish();
  await Promise.all(later);
});
