import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomClusterId } from './kafka.js';

test("a cluster id never starts with '-' (kafka-storage would read it as a missing --cluster-id value)", () => {
  // 0xf8: the first six bits are 62, '-' in base64url. The first draw is refused, the second kept.
  const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x41)];
  const id = randomClusterId(() => draws.shift()!);
  assert.equal(Buffer.alloc(16, 0xf8).toString('base64url')[0], '-');
  assert.equal(id, Buffer.alloc(16, 0x41).toString('base64url'));
  assert.equal(draws.length, 0);
  for (let i = 0; i < 2000; i++) {
    const random = randomClusterId();
    assert.equal(random.length, 22);
    assert.notEqual(random[0], '-');
  }
});
