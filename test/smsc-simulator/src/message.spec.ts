import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildMoParts,
  decodeGsm7,
  decodeUserData,
  encodeGsm7Chars,
  GSM_BASIC_ALPHABET,
  parseUdh,
  receiptText,
} from './message.js';

void describe('GSM 03.38', () => {
  void it('has 128 basic characters', () => {
    assert.equal([...GSM_BASIC_ALPHABET].length, 128);
  });

  void it('round-trips basic and extension characters', () => {
    const text = '@£$ Hello {world} [x] ~|^ € \\ Ωß';
    const chars = encodeGsm7Chars(text);
    assert.ok(chars);
    assert.equal(decodeGsm7(Uint8Array.from(chars.flat())), text);
    assert.deepEqual(encodeGsm7Chars('€'), [[0x1b, 0x65]]);
    assert.equal(encodeGsm7Chars('Привет'), null);
  });
});

void describe('decodeUserData', () => {
  void it('follows SMPP data_coding', () => {
    assert.equal(decodeUserData(0x00, Buffer.from([0x00, 0x11, 0x41])), '@_A');
    assert.equal(decodeUserData(0x03, Buffer.from([0xe9])), 'é');
    assert.equal(decodeUserData(0x08, Buffer.from('Привет', 'utf16le').swap16()), 'Привет');
    assert.equal(decodeUserData(0x04, Buffer.from([1, 2, 3])), null);
    assert.equal(decodeUserData(0xf0, Buffer.from([0x41])), 'A');
    assert.equal(decodeUserData(0xf4, Buffer.from([0x41])), null);
  });
});

void describe('parseUdh', () => {
  void it('parses 8-bit and 16-bit concatenation and keeps other elements', () => {
    const eight = parseUdh(Buffer.from([0x05, 0x00, 0x03, 0x7f, 0x02, 0x01, 0x41]));
    assert.deepEqual(eight?.udh.concat, { ref: 0x7f, total: 2, seq: 1, scheme: 'udh8' });
    assert.deepEqual([...(eight?.rest ?? [])], [0x41]);
    const sixteen = parseUdh(Buffer.from([0x09, 0x24, 0x01, 0x01, 0x08, 0x04, 0x01, 0x02, 0x03, 0x02, 0x42]));
    assert.deepEqual(sixteen?.udh.concat, { ref: 0x0102, total: 3, seq: 2, scheme: 'udh16' });
    assert.deepEqual(sixteen?.udh.elements[0], { iei: 0x24, data: '01' });
  });

  void it('returns null for a header longer than the data', () => {
    assert.equal(parseUdh(Buffer.from([0x05, 0x00, 0x03])), null);
    assert.equal(parseUdh(Buffer.from([0x03, 0x00, 0x05, 0x01])), null);
  });
});

void describe('receiptText', () => {
  void it('keeps 20 characters that read the same in ASCII and GSM', () => {
    assert.equal(receiptText('Hello, world! 12345678901234'), 'Hello, world! 123456');
    assert.equal(receiptText('a@b_c$d€'), 'a?b?c?d?');
    assert.equal(receiptText(null), '');
  });
});

void describe('buildMoParts', () => {
  void it('uses one GSM part up to 160 septets, then 153 per part', () => {
    assert.equal(buildMoParts('x'.repeat(160), 1).length, 1);
    const parts = buildMoParts('x'.repeat(161), 9);
    assert.equal(parts.length, 2);
    assert.equal(parts[0]?.shortMessage.length, 6 + 153);
    assert.deepEqual([...(parts[1]?.shortMessage.subarray(0, 6) ?? [])], [5, 0, 3, 9, 2, 2]);
  });

  void it('never splits an escape pair or a surrogate pair', () => {
    const gsm = buildMoParts(`${'x'.repeat(152)}€€€€€`, 1);
    assert.equal(gsm[0]?.shortMessage.length, 6 + 152);
    const emoji = buildMoParts(`${'я'.repeat(66)}👋👋👋`, 1);
    assert.equal(emoji[0]?.dataCoding, 8);
    assert.equal(emoji[0]?.shortMessage.length, 6 + 132);
  });
});
