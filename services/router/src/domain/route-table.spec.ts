import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable } from './route-table.js';

const table = new RouteTable([
  { id: 'default', match: {}, carriers: ['a', 'b'] },
  { id: 'uk', match: { prefixes: ['+44'] }, carriers: ['uk1'] },
  { id: 'uk-mobile', match: { prefixes: ['+447'] }, carriers: ['uk2', 'uk1'] },
  { id: 'uk-otp', match: { prefixes: ['+447'], trafficClasses: ['otp'] }, carriers: ['fast'] },
  { id: 'acme-promo', match: { tenants: ['acme'], trafficClasses: ['promotional'] }, carriers: ['cheap'] },
]);

describe('route table', () => {
  const cases: [string, string, 'otp' | 'transactional' | 'promotional', string, string][] = [
    ['longest prefix wins', '+447700900001', 'transactional', 'beta', 'uk-mobile'],
    ['a more specific rule wins at equal prefix', '+447700900001', 'otp', 'beta', 'uk-otp'],
    ['shorter prefix when the longer does not match', '+441234567890', 'transactional', 'beta', 'uk'],
    ['fallback to the catch-all', '+33612345678', 'transactional', 'beta', 'default'],
    ['tenant and class rule', '+33612345678', 'promotional', 'acme', 'acme-promo'],
  ];
  for (const [name, to, trafficClass, tenantId, expected] of cases) {
    test(name, () => assert.equal(table.resolve({ to, trafficClass, tenantId })?.routeId, expected));
  }

  test('no rule: no decision', () => {
    const strict = new RouteTable([{ id: 'uk', match: { prefixes: ['+44'] }, carriers: ['a'] }]);
    assert.equal(strict.resolve({ to: '+33612345678', trafficClass: 'otp', tenantId: 't' }), undefined);
  });

  test('carriers keep failover order', () => {
    assert.deepEqual(table.resolve({ to: '+447700900001', trafficClass: 'promotional', tenantId: 'x' })?.carriers, ['uk2', 'uk1']);
  });
});
