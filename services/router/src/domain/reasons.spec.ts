import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exhaustedReason, noCarrierReason, routedReason } from './reasons.js';
import type { RouteDecision } from '@sms/routing';

const decision: RouteDecision = {
  routeId: 'uk-otp',
  carriers: ['a'],
  strategy: 'ordered',
  skipped: [{ carrierId: 'b', reason: 'breaker_open' }],
  allBreakersOpen: false,
  conditions: 'prefix +447, class otp',
};

test('routed reason names the rule, the carrier and the skipped carriers', () => {
  assert.deepEqual(routedReason(decision), {
    code: 'routed',
    message: 'rule uk-otp (prefix +447, class otp) -> a [ordered]; skipped b: breaker open',
  });
});

test('no usable carrier is no_route with the rule and each skip', () => {
  assert.deepEqual(noCarrierReason({ ...decision, carriers: [], skipped: [{ carrierId: 'a', reason: 'not_simulator' }] }), {
    code: 'no_route',
    message: 'rule uk-otp (prefix +447, class otp) has no usable carrier: a: not a simulator (sandbox message)',
  });
});

test('exhausted route lists every attempt and keeps the last raw code', () => {
  const reason = exhaustedReason([
    { attempt: 1, carrierId: 'a', code: 'throttled', carrierCode: 'ESME_RTHROTTLED' },
    { attempt: 2, carrierId: 'b', code: 'carrier_unavailable' },
  ]);
  assert.deepEqual(reason, {
    code: 'all_carriers_failed',
    message: '2 attempt(s): 1 a: throttled (ESME_RTHROTTLED); 2 b: carrier_unavailable',
    carrierCode: undefined,
  });
  assert.ok(exhaustedReason(Array.from({ length: 40 }, (_, i) => ({ attempt: i, carrierId: 'carrier-with-a-long-name', code: 'system_error' }))).message!.length <= 500);
});
