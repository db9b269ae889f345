import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseCarrierMessageId } from './carrier-message-id.js';

test('case and leading zeros do not matter', () => {
  assert.equal(normaliseCarrierMessageId('00AB12'), normaliseCarrierMessageId('ab12'));
});

test('hex and decimal forms of one id meet when the carrier format is declared', () => {
  assert.equal(normaliseCarrierMessageId('0000FF', 'hex'), 'ff');
  assert.equal(normaliseCarrierMessageId('000255', 'decimal'), '255');
});
