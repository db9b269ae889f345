import { test } from 'node:test';
import assert from 'node:assert/strict';
import { senderRefusal, type SenderPolicy } from './sender-policy.js';

const policy: SenderPolicy = { registrationRequired: new Set(['IN', 'GB']), alphanumericUnsupported: new Set(['US', 'CA']) };

test('sender policy, table-driven', () => {
  const cases: [string, string, string | undefined, string[] | undefined, string | undefined][] = [
    ['alphanumeric to the US', 'ACME', 'US', undefined, 'alphanumeric sender ids are not supported in US'],
    ['alphanumeric to the US even when registered', 'ACME', 'US', [], 'alphanumeric sender ids are not supported in US'],
    ['numeric to the US, no registration needed', '12025550123', 'US', undefined, undefined],
    ['unregistered where required', 'ACME', 'IN', undefined, 'sender is not registered for IN'],
    ['registered for every country', 'ACME', 'IN', [], undefined],
    ['registered for this country', 'ACME', 'GB', ['GB', 'IN'], undefined],
    ['registered for other countries only', 'ACME', 'GB', ['IN'], 'sender is registered for IN, not GB'],
    ['no rule for the country', 'ACME', 'FR', undefined, undefined],
    ['unknown country', 'ACME', undefined, undefined, undefined],
  ];
  for (const [name, sender, country, registration, expected] of cases) {
    const refusal = senderRefusal(policy, sender, country, registration);
    assert.equal(refusal?.message, expected, name);
    if (refusal) assert.equal(refusal.code, 'sender_not_registered', name);
  }
});
