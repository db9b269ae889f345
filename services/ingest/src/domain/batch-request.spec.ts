import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateBatchRequest } from './batch-request.js';
import { validateSendRequest } from './send-request.js';

const limits = { maxSegments: 10 };

describe('batch request validation', () => {
  test('shared values apply to every recipient; per-recipient values override them', () => {
    const r = validateBatchRequest(
      { from: 'ACME', body: 'Hello', recipients: ['+447911123456', { to: '+447911123457', body: 'Привет', reference: 'r2' }] },
      limits,
    );
    assert.ok(r.ok);
    const [a, b] = r.recipients;
    assert.ok(a!.ok && a.value.body === 'Hello' && a.value.encoding === 'GSM-7');
    assert.ok(b!.ok && b.value.body === 'Привет' && b.value.encoding === 'UCS-2' && b.value.reference === 'r2');
  });

  test('a bad recipient is rejected alone, its fields named with its index', () => {
    const r = validateBatchRequest({ from: 'ACME', body: 'x', recipients: ['+447911123456', 'nope', { to: '+447911123456', colour: 1 }, 42] }, limits);
    assert.ok(r.ok);
    assert.deepEqual(
      r.recipients.map((o) => (o.ok ? 'ok' : o.problems.map((p) => `${p.field}:${p.code}`).join(','))),
      ['ok', 'recipients.1.to:invalid_number', 'recipients.2.colour:unknown_field', 'recipients.3:invalid_type'],
    );
  });

  test('a missing shared body is a per-recipient error unless the recipient gives one', () => {
    const r = validateBatchRequest({ from: 'ACME', recipients: ['+447911123456', { to: '+447911123456', body: 'mine' }] }, limits);
    assert.ok(r.ok);
    assert.equal(r.recipients[0]!.ok, false);
    assert.equal(r.recipients[1]!.ok, true);
  });

  test('the batch itself is refused when empty, over 10,000, or with unknown fields', () => {
    assert.equal(validateBatchRequest({ from: 'A', body: 'x', recipients: [] }, limits).ok, false);
    assert.equal(validateBatchRequest({ from: 'A', body: 'x', recipients: new Array(10_001).fill('+447911123456') }, limits).ok, false);
    const r = validateBatchRequest({ from: 'A', body: 'x', recipients: ['+447911123456'], colour: 'red' }, limits);
    assert.ok(!r.ok && r.problems[0]!.field === 'colour');
  });

  test('a bare number gets exactly the outcome of a single message with the shared values (checked once per batch)', () => {
    // Shared values that pass the batch envelope (its types and limits are the single message's) but may fail
    // per recipient: missing (from and body are required), empty, too long for a sender or in segments, too
    // far ahead, a region; numbers valid, national, malformed, empty, too long.
    const optional = <T>(values: T[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
    const shared = fc.record(
      {
        from: optional(['ACME', '+447911000000', 'WAY-TOO-LONG-SENDER', '1234567890123456', 'ÄCME']),
        body: optional(['Hello', '', '€'.repeat(100), 'Привет', 'a'.repeat(1531)]),
        trafficClass: optional(['otp', 'transactional', 'promotional'] as const),
        callbackUrl: optional(['https://example.com/hook']),
        validityPeriod: optional([60, 3600]),
        sendAt: optional([new Date(Date.now() + 3600_000).toISOString(), new Date(Date.now() + 40 * 24 * 3600_000).toISOString()]),
        reference: optional(['ref-1']),
        metadata: optional([{ campaign: 'spring' }]),
        defaultRegion: optional(['GB', 'US', 'FR']),
      },
      { requiredKeys: [] },
    );
    const number = fc.constantFrom('+447911123456', '+44 7911 123457', '07911 123456', '2025550123', '+12025550123', '+1', '+4479', 'not-a-number', '', '+44'.padEnd(33, '7'), '+33612345678');
    fc.assert(
      fc.property(shared, fc.array(number, { minLength: 1, maxLength: 6 }), (values, recipients) => {
        const batch = validateBatchRequest({ ...values, recipients }, limits);
        assert.ok(batch.ok, JSON.stringify(batch));
        recipients.forEach((to, index) => {
          const single = validateSendRequest({ ...values, to }, limits);
          const expected = single.ok
            ? { index, ok: true, value: single.value }
            : { index, ok: false, problems: single.problems.map((p) => ({ ...p, field: `recipients.${index}.${p.field}` })) };
          assert.deepEqual(batch.recipients[index], expected);
        });
      }),
      { numRuns: 500 },
    );
  });
});
