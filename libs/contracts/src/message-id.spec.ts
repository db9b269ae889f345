import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { envelopeBaseSchema } from './contract.js';
import { messageIdTime, newMessageId } from './message-id.js';

test('a message id is a version 7 UUID carrying the millisecond it was made at', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
      const id = newMessageId(ms);
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(messageIdTime(id), ms);
    }),
  );
});

test('ids of later milliseconds sort after earlier ones; ids are unique across pool refills', () => {
  const start = Date.UTC(2026, 11, 5);
  const ids = Array.from({ length: 2000 }, (_, i) => newMessageId(start + i));
  assert.deepEqual([...ids].sort(), ids);
  const many = new Set(Array.from({ length: 20_000 }, () => newMessageId(start)));
  assert.equal(many.size, 20_000);
});

test('an envelope accepts a version 7 message id', () => {
  const envelope = { eventId: newMessageId(), type: 't', version: 1, occurredAt: new Date().toISOString(), tenantId: 'acme', messageId: newMessageId() };
  assert.equal(envelopeBaseSchema.safeParse(envelope).success, true);
});
