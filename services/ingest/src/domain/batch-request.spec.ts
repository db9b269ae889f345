import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateBatchRequest } from './batch-request.js';

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
});
