// The dlr-processor repository on real PostgreSQL, for what only concurrent transactions can show.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openServiceDatabase } from '@sms/platform';
import { createTestDatabase } from '@sms/testing';
import { DlrProcessorInit1764100000000 } from './migrations/1764100000000-dlr-processor-init.js';
import { DlrStore } from './dlr.repository.js';

let database: { url: string; drop(): Promise<void> };
let dataSource: DataSource;

before(async () => {
  database = await createTestDatabase('dlr_repo');
  dataSource = await openServiceDatabase({
    url: database.url,
    schema: 'dlr_processor',
    migrations: [DlrProcessorInit1764100000000],
    applicationName: 'dlr-repository-it',
  });
});

after(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

test('a transaction that waited for the message lock sees the parts the lock holder updated (multipart receipts)', async () => {
  // Receipts for two parts of one message are applied by two transactions at once (different partitions).
  // The second must see the first's part update once it holds the lock, or neither marks the message final.
  const store = new DlrStore(dataSource);
  const messageId = randomUUID();
  const carrierId = `c-${randomUUID().slice(0, 8)}`;
  const now = new Date().toISOString();
  await store.transaction((repo) =>
    repo.insertMessagesWithParts(
      [{ messageId, tenantId: 't', carrierId, trafficClass: 'transactional', totalParts: 2, validUntil: new Date(Date.now() + 3_600_000).toISOString(), acceptedAt: now, submittedAt: now }],
      [0, 1].map((partIndex) => ({ messageId, partIndex, carrierId, carrierMessageId: `${messageId}-${partIndex}`, submittedAt: now })),
    ),
  );

  let releaseFirst!: () => void;
  const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
  let firstLocked!: () => void;
  const firstHoldsLock = new Promise<void>((resolve) => (firstLocked = resolve));

  const first = store.transaction(async (repo) => {
    await repo.loadMessagesForUpdate([messageId]);
    await repo.writeApplied([{ messageId, partIndex: 0, status: 'delivered', rawStat: 'DELIVRD' }], [], []);
    firstLocked();
    await firstMayCommit;
  });
  await firstHoldsLock;
  const second = store.transaction(async (repo) => repo.loadMessagesForUpdate([messageId]));
  // Give the second transaction time to block on the lock, then let the first commit.
  await new Promise((resolve) => setTimeout(resolve, 200));
  releaseFirst();
  await first;
  const seen = (await second).get(messageId);
  assert.deepEqual(
    seen?.parts.map((p) => [p.index, p.status]),
    [
      [0, 'delivered'],
      [1, 'pending'],
    ],
  );
});
