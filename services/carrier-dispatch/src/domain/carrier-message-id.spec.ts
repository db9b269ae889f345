import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_CARRIER_MESSAGE_ID_LENGTH,
  normaliseCarrierMessageId,
  recordableCarrierMessageId,
} from './carrier-message-id.js';

test('case and leading zeros do not matter', () => {
  assert.equal(normaliseCarrierMessageId('00AB12'), normaliseCarrierMessageId('ab12'));
});

test('normalising twice changes nothing (zeros before a space are kept: stripping them exposed the space to the next trim)', () => {
  assert.equal(normaliseCarrierMessageId('0 !'), '0 !');
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.constantFrom('as-is', 'hex', 'decimal'), (raw, format) => {
      const once = normaliseCarrierMessageId(raw, format);
      assert.equal(normaliseCarrierMessageId(once, format), once);
    }),
    { examples: [['0 !', 'as-is'], ['00\t7', 'as-is'], [' 000 ', 'decimal']], numRuns: 2000 },
  );
});

test('hex and decimal forms of one id meet when the carrier format is declared', () => {
  assert.equal(normaliseCarrierMessageId('0000FF', 'hex'), 'ff');
  assert.equal(normaliseCarrierMessageId('000255', 'decimal'), '255');
});

test('an accepted part with an empty, blank or over-long carrier id is recorded as unidentified, never as an id the events refuse', () => {
  const messageId = '0190a7e2-0000-7000-8000-000000000001';
  assert.deepEqual(recordableCarrierMessageId('00AB12', messageId, 0), { id: 'ab12', identified: true });
  assert.deepEqual(recordableCarrierMessageId('x'.repeat(128), messageId, 0), {
    id: 'x'.repeat(128),
    identified: true,
  });
  for (const raw of ['', '   ', 'x'.repeat(129)]) {
    assert.deepEqual(recordableCarrierMessageId(raw, messageId, 2), {
      id: `unidentified:${messageId}:2`,
      identified: false,
    });
  }
});

test('recording is idempotent: an id read back from the ledger maps to itself', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 140 }), fc.uuid(), fc.nat(10), (raw, messageId, part) => {
      const once = recordableCarrierMessageId(raw, messageId, part).id;
      assert.equal(recordableCarrierMessageId(once, messageId, part).id, once);
      assert.ok(once.length >= 1 && once.length <= MAX_CARRIER_MESSAGE_ID_LENGTH);
    }),
    { examples: [['0 !', '0190a7e2-0000-7000-8000-000000000001', 0]] },
  );
});
