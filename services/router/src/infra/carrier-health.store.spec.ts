import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CarrierHealthPayload } from '@sms/contracts';
import { CarrierHealthStore } from './carrier-health.listener.js';

const state = (breaker: CarrierHealthPayload['breaker'], changedAt: string): CarrierHealthPayload => ({
  carrierId: 'a',
  lane: 'otp',
  breaker,
  bindsUp: breaker === 'open' ? 0 : 1,
  bindsTotal: 1,
  changedAt,
});

test('listeners get each applied state, not an older one; a copy built from a snapshot answers the same', () => {
  const store = new CarrierHealthStore();
  const seen: string[] = [];
  store.onChange((s) => seen.push(s.breaker));
  assert.equal(store.apply(state('open', '2026-12-05T00:00:02Z')), true);
  assert.equal(store.apply(state('closed', '2026-12-05T00:00:01Z')), false, 'older than what is known');
  assert.equal(store.apply(state('half_open', '2026-12-05T00:00:03Z')), true);
  assert.deepEqual(seen, ['open', 'half_open']);
  const copy = new CarrierHealthStore(store.snapshot());
  assert.equal(copy.breaker('a', 'otp'), 'half_open');
  assert.equal(copy.breaker('a', 'promotional'), undefined);
});
