import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedPayload, dispatchPayload, type AcceptedPayload } from '@sms/contracts';
import { dispatchPayloadOf } from './dispatch-payload.js';

const route = { carrierId: 'c1', routeId: 'r1', attempt: 2, routedAt: '2026-12-05T00:00:00.000Z' };
const full: AcceptedPayload = {
  to: '+447911000001',
  from: 'ACME',
  body: 'Your code is 123456',
  trafficClass: 'otp',
  encoding: 'GSM-7',
  segments: 1,
  callbackUrl: 'https://example.com/cb',
  validUntil: '2026-12-06T00:00:00.000Z',
  acceptedAt: '2026-12-05T00:00:00.000Z',
  reference: 'ref-1',
  sandbox: true,
};

test('every field of the dispatch contract is set, the same as spreading the accepted payload', () => {
  const payload = dispatchPayloadOf(full, route);
  assert.deepEqual(Object.keys(payload).sort(), Object.keys(dispatchPayload.shape).sort(), 'a contract field is not copied');
  assert.deepEqual(payload, { ...full, ...route });
  assert.equal(dispatchPayload.safeParse(payload).success, true);
});

test('optional fields left out of the accepted payload stay out of the JSON', () => {
  const { callbackUrl: _c, reference: _r, ...minimal } = full;
  const parsed = acceptedPayload.parse(minimal);
  const payload = dispatchPayloadOf(parsed, route);
  assert.deepEqual(JSON.parse(JSON.stringify(payload)), { ...parsed, ...route });
  assert.equal(dispatchPayload.safeParse(payload).success, true);
});
