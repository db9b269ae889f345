import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TenantRateLimiter } from './rate-limiter.js';

describe('tenant rate limiter', () => {
  test('allows the burst, then refuses with a Retry-After, then refills', () => {
    let now = 1_000_000;
    const limiter = new TenantRateLimiter({ perSecond: 2, burst: 4 }, () => now);
    for (let i = 0; i < 4; i++) assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 1);
    assert.equal(limiter.take('b'), 0, 'tenants have their own buckets');
    now += 500;
    assert.equal(limiter.take('a'), 0);
    assert.ok(limiter.take('a') >= 1);
  });

  test('a per-tenant rate overrides the default and scales the burst', () => {
    const now = 0;
    const limiter = new TenantRateLimiter({ perSecond: 10, burst: 20 }, () => now);
    assert.equal(limiter.take('slow', 1), 0);
    assert.equal(limiter.take('slow', 1), 0);
    assert.equal(limiter.take('slow', 1), 1);
  });
});
