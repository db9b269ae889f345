import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSendRequest } from './send-request.js';

const ok = (input: unknown) => validateSendRequest(input, { maxSegments: 10 });
const fields = (input: unknown) => {
  const r = ok(input);
  return r.ok ? [] : r.problems.map((p) => `${p.field}:${p.code}`);
};

describe('send request validation', () => {
  test('a valid request is normalised with encoding and segments', () => {
    const r = ok({ to: '+44 7911 123456', from: 'ACME', body: 'Your code is 1234' });
    assert.ok(r.ok);
    assert.equal(r.value.to, '+447911123456');
    assert.equal(r.value.encoding, 'GSM-7');
    assert.equal(r.value.segments, 1);
    assert.equal(r.value.trafficClass, 'transactional');
  });

  test('unicode bodies are UCS-2 and count 70/67', () => {
    const r = ok({ to: '+447911123456', from: 'ACME', body: 'ü'.repeat(0) + 'Привет'.repeat(12) });
    assert.ok(r.ok);
    assert.equal(r.value.encoding, 'UCS-2');
    assert.equal(r.value.segments, 2);
  });

  test('national numbers need an explicit region', () => {
    assert.deepEqual(fields({ to: '07911 123456', from: 'ACME', body: 'x' }), ['to:invalid_number']);
    const r = ok({ to: '07911 123456', from: 'ACME', body: 'x', defaultRegion: 'GB' });
    assert.ok(r.ok && r.value.to === '+447911123456');
  });

  test('every bad field is named at once', () => {
    assert.deepEqual(fields({ to: '+1', from: 'WAY-TOO-LONG-SENDER', body: '', colour: 'red' }), ['colour:unknown_field']);
    assert.deepEqual(fields({ to: '+1', from: 'WAY-TOO-LONG-SENDER', body: '' }).sort(), [
      'body:empty_body',
      'from:invalid_sender',
      'to:invalid_number',
    ]);
  });

  test('a body with U+0000 is refused, naming the field (PostgreSQL cannot store it)', () => {
    assert.deepEqual(fields({ to: '+447911123456', from: 'ACME', body: 'code\u00001234' }), ['body:invalid_character']);
  });

  test('wrong types are refused', () => {
    assert.deepEqual(fields({ to: 447700900123, from: 'ACME', body: 'x' }), ['to:invalid_type']);
    assert.deepEqual(fields({ to: '+447911123456', from: 'ACME', body: 'x', trafficClass: 'spam' }), ['trafficClass:invalid_value']);
  });

  test('numeric senders up to 15 digits, alphanumeric up to 11', () => {
    assert.ok(ok({ to: '+447911123456', from: '+447911123999', body: 'x' }).ok);
    assert.deepEqual(fields({ to: '+447911123456', from: '1234567890123456', body: 'x' }), ['from:invalid_sender']);
    assert.ok(ok({ to: '+447911123456', from: 'ABCDEFGHIJK', body: 'x' }).ok);
  });

  test('over-long bodies are refused with the segment count', () => {
    const r = validateSendRequest({ to: '+447911123456', from: 'ACME', body: 'a'.repeat(161) }, { maxSegments: 1 });
    assert.ok(!r.ok && r.problems[0]!.code === 'body_too_long' && /2 GSM-7 segments/.test(r.problems[0]!.message));
  });
});
