import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideRetry, retryDelayMs, type RetrySettings } from './retry-policy.js';

const settings: RetrySettings = { maxRetries: 4, baseDelayMs: 1000, maxDelayMs: 8000 };

test('delays grow exponentially with jitter between half and the full step, capped', () => {
  assert.equal(retryDelayMs(1, settings, 0), 500);
  assert.equal(retryDelayMs(1, settings, 0.999999), 1000);
  assert.equal(retryDelayMs(2, settings, 0), 1000);
  assert.equal(retryDelayMs(3, settings, 0), 2000);
  assert.equal(retryDelayMs(10, settings, 0.999999), 8000);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (retry, random) => {
      const step = Math.min(8000, 1000 * 2 ** (retry - 1));
      const d = retryDelayMs(retry, settings, random);
      return d >= step / 2 && d <= step;
    }),
  );
});

test('retries until the attempts are used up, then gives up', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const validUntil = now + 3600_000;
  for (let sofar = 0; sofar < 4; sofar++) {
    const d = decideRetry({ retriesSoFar: sofar, now, validUntil, settings, random: 0.5 });
    assert.equal(d.kind, 'retry');
    if (d.kind === 'retry') {
      assert.equal(d.retry, sofar + 1);
      assert.ok(d.dueAt.getTime() > now);
    }
  }
  assert.deepEqual(decideRetry({ retriesSoFar: 4, now, validUntil, settings, random: 0.5 }), { kind: 'give_up', why: 'attempts_exhausted' });
});

test('never schedules a retry that would fall after the validity period', () => {
  const now = 1_000_000;
  assert.deepEqual(decideRetry({ retriesSoFar: 0, now, validUntil: now + 1200, settings, random: 0.9 }), {
    kind: 'give_up',
    why: 'validity_too_short',
  });
  assert.equal(decideRetry({ retriesSoFar: 0, now, validUntil: now + 60_000, settings, random: 0.9 }).kind, 'retry');
});

test('maxRetries 0 hands every transient error straight to failover', () => {
  assert.equal(decideRetry({ retriesSoFar: 0, now: 0, validUntil: 1e12, settings: { ...settings, maxRetries: 0 }, random: 0 }).kind, 'give_up');
});
