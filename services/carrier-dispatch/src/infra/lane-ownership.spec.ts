import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LaneOwnership, type LaneShares } from './lane-ownership.js';

const lanes = [
  { lane: 'otp' as const, topic: 't.otp', partitions: 6 },
  { lane: 'transactional' as const, topic: 't.tx', partitions: 6 },
];

test('reports the partitions actually assigned per lane, and only when they change (a rebalance)', () => {
  const seen: LaneShares[] = [];
  const ownership = new LaneOwnership(lanes, (s) => seen.push(s));
  ownership.onAssignment('otp', { 't.otp': [0, 1] });
  assert.deepEqual(seen, [{ otp: { owned: 2, total: 6 }, transactional: { owned: 6, total: 6 } }]);
  ownership.onAssignment('otp', { 't.otp': [1, 0] });
  assert.equal(seen.length, 1, 'the same partitions again is no change');
  ownership.onAssignment('transactional', { 't.tx': [5], 'another.topic': [0, 1, 2] });
  assert.deepEqual(seen[1], { otp: { owned: 2, total: 6 }, transactional: { owned: 1, total: 6 } });
  ownership.onAssignment('otp', {});
  assert.deepEqual(seen[2]!.otp, { owned: 0, total: 6 }, 'a member with no partition of the lane owns none');
});

test('a lane not joined yet counts as wholly owned', () => {
  assert.deepEqual(new LaneOwnership(lanes, () => undefined).shares(), { otp: { owned: 6, total: 6 }, transactional: { owned: 6, total: 6 } });
});
