import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { LaneOwnershipWatcher } from './lane-ownership.js';

function fakeKafka(members: Record<string, number>): Kafka {
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    describeGroups: async (ids: string[]) => ({
      groups: ids.map((groupId) => ({ groupId, members: Array.from({ length: members[groupId] ?? 0 }, (_, i) => ({ memberId: `m${i}` })) })),
    }),
  };
  return { admin: () => admin } as unknown as Kafka;
}

const logger = { warn: () => undefined } as unknown as Logger;

test('reports each lane as partitions over members, and only when it changes (a rebalance)', async () => {
  const members: Record<string, number> = { 'p.otp': 1, 'p.transactional': 2 };
  const seen: unknown[] = [];
  const watcher = new LaneOwnershipWatcher(
    fakeKafka(members),
    [
      { lane: 'otp', groupId: 'p.otp', partitions: 6 },
      { lane: 'transactional', groupId: 'p.transactional', partitions: 6 },
    ],
    logger,
    (owned) => seen.push(owned),
  );
  await watcher.check();
  assert.deepEqual(seen, [{ otp: { owned: 6, total: 6 }, transactional: { owned: 3, total: 6 } }]);
  await watcher.check();
  assert.equal(seen.length, 1);
  members['p.otp'] = 3;
  await watcher.check();
  assert.deepEqual(seen[1], { otp: { owned: 2, total: 6 }, transactional: { owned: 3, total: 6 } });
});

test('a group with no members yet counts this replica as the only one', async () => {
  const seen: unknown[] = [];
  const watcher = new LaneOwnershipWatcher(fakeKafka({}), [{ lane: 'promotional', groupId: 'g', partitions: 6 }], logger, (o) => seen.push(o));
  await watcher.check();
  assert.deepEqual(seen, [{ promotional: { owned: 6, total: 6 } }]);
});
