import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  GSM7_BASIC_CHARS,
  GSM7_EXTENSION_CHARS,
  alphabetOf,
  decodeGsm7,
  decodeShortMessage,
  decodeUcs2,
  encodeGsm7,
  encodeUcs2,
  gsm7FillBits,
  gsm7Length,
  isGsm7,
  packGsm7,
  parseUdh,
  unpackGsm7,
} from './index.js';

const gsmText = fc
  .array(fc.oneof(fc.constantFrom(...GSM7_BASIC_CHARS), fc.constantFrom(...GSM7_EXTENSION_CHARS)), {
    maxLength: 400,
  })
  .map((chars) => chars.join(''));
// Any UTF-16 units, lone surrogates included: UCS-2 must carry them untouched.
const utf16Text = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
  maxLength: 300,
});

void test('property: GSM-7 encode/decode round-trips and costs gsm7Length septets', () => {
  fc.assert(
    fc.property(gsmText, (text) => {
      const septets = encodeGsm7(text);
      assert.equal(septets.length, gsm7Length(text));
      assert.ok(septets.every((s) => s < 0x80));
      assert.equal(decodeGsm7(septets), text);
    }),
    { numRuns: 300 },
  );
});

void test('property: pack/unpack round-trips for every fill-bit count', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ max: 0x7f, maxLength: 300 }),
      fc.integer({ min: 0, max: 6 }),
      (septets, fillBits) => {
        const packed = packGsm7(septets, fillBits);
        assert.equal(packed.length, Math.ceil((fillBits + septets.length * 7) / 8));
        assert.deepEqual(unpackGsm7(packed, septets.length, fillBits), septets);
      },
    ),
    { numRuns: 300 },
  );
});

void test('property: UCS-2 encode/decode round-trips any UTF-16, two octets per unit', () => {
  fc.assert(
    fc.property(utf16Text, (text) => {
      const bytes = encodeUcs2(text);
      assert.equal(bytes.length, text.length * 2);
      assert.equal(decodeUcs2(bytes), text);
    }),
    { numRuns: 300 },
  );
});

void test('GSM-7 known encodings', () => {
  assert.deepEqual(Array.from(encodeGsm7('@£$_')), [0x00, 0x01, 0x02, 0x11]);
  assert.deepEqual(Array.from(encodeGsm7('€')), [0x1b, 0x65]);
  assert.deepEqual(Array.from(encodeGsm7('{}')), [0x1b, 0x28, 0x1b, 0x29]);
  assert.equal(GSM7_BASIC_CHARS.length, 127);
  assert.deepEqual(
    [...GSM7_EXTENSION_CHARS].sort(),
    ['\f', '[', '\\', ']', '^', '{', '|', '}', '~', '€'].sort(),
  );
  assert.throws(() => encodeGsm7('ok ç'), /U\+00e7 at offset 3/);
  assert.equal(isGsm7('Hello {world} €5'), true);
  assert.equal(isGsm7('hello 😀'), false);
});

void test('GSM-7 decoding is lenient with escapes', () => {
  assert.equal(decodeGsm7(Uint8Array.of(0x41, 0x1b)), 'A');
  assert.equal(decodeGsm7(Uint8Array.of(0x1b, 0x41)), 'A');
  assert.equal(decodeGsm7(Uint8Array.of(0xc1)), 'A');
});

void test('packing matches the 23.038 example', () => {
  const hello = encodeGsm7('hellohello');
  assert.equal(Buffer.from(packGsm7(hello)).toString('hex'), 'e8329bfd4697d9ec37');
  assert.equal(gsm7FillBits(6), 1);
  assert.equal(gsm7FillBits(7), 0);
  assert.deepEqual(Array.from(packGsm7(Uint8Array.of(0x7f), 1)), [0xfe]);
  assert.throws(() => unpackGsm7(Uint8Array.of(0), 2), RangeError);
});

void test('UCS-2 is big-endian UTF-16 and ignores a trailing odd octet', () => {
  assert.deepEqual(Array.from(encodeUcs2('A😀')), [0x00, 0x41, 0xd8, 0x3d, 0xde, 0x00]);
  assert.equal(decodeUcs2(Uint8Array.of(0x04, 0x36, 0x00)), 'ж');
});

void test('UDH parsing finds 8- and 16-bit concatenation elements and rejects overruns', () => {
  const udh8 = parseUdh(Uint8Array.of(5, 0, 3, 9, 2, 1, 0x41));
  assert.deepEqual(udh8?.header.concat, { reference: 9, total: 2, seq: 1, referenceBits: 8 });
  assert.deepEqual(Array.from(udh8!.body), [0x41]);
  const udh16 = parseUdh(Uint8Array.of(6, 8, 4, 1, 2, 3, 1));
  assert.deepEqual(udh16?.header.concat, { reference: 0x102, total: 3, seq: 1, referenceBits: 16 });
  assert.equal(parseUdh(Uint8Array.of(9, 0, 3)), undefined);
  assert.equal(parseUdh(Uint8Array.of(2, 0, 3)), undefined);
});

void test('data_coding alphabets and short message decoding', () => {
  assert.equal(alphabetOf(0), 'GSM-7');
  assert.equal(alphabetOf(1), 'ASCII');
  assert.equal(alphabetOf(3), 'LATIN-1');
  assert.equal(alphabetOf(8), 'UCS-2');
  assert.equal(alphabetOf(4), 'binary');
  assert.equal(alphabetOf(0xf0), 'GSM-7');
  assert.equal(alphabetOf(0xf4), 'binary');
  assert.equal(alphabetOf(0x18), 'UCS-2');
  assert.deepEqual(decodeShortMessage(Buffer.from('id:1 stat:DELIVRD'), { dataCoding: 1 }), {
    alphabet: 'ASCII',
    text: 'id:1 stat:DELIVRD',
  });
  assert.equal(decodeShortMessage(Uint8Array.of(0xe9), { dataCoding: 3 }).text, 'é');
  assert.equal(decodeShortMessage(Uint8Array.of(1, 2), { dataCoding: 4 }).text, undefined);
});

void test('property: any septets (escapes, unknown extensions, high bits, texts longer than one chunk) decode character by character', () => {
  // The table as 3GPP TS 23.038 lists it, and its extension table by septet: the reference decodes one character
  // at a time, as decodeGsm7 did before it built the string in one go.
  const basic =
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  const extension: Record<number, string> = { 0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€' };
  const reference = (septets: Uint8Array): string => {
    let text = '';
    for (let i = 0; i < septets.length; i++) {
      const septet = septets[i]! & 0x7f;
      if (septet !== 0x1b) {
        text += basic[septet];
        continue;
      }
      if (i + 1 >= septets.length) break;
      const next = septets[++i]! & 0x7f;
      text += extension[next] ?? (next === 0x1b ? ' ' : basic[next]);
    }
    return text;
  };
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ minLength: 4000, maxLength: 9000 }),
        fc.array(fc.constantFrom(0x1b, 0x0a, 0x65, 0x3c, 0x41, 0x9b, 0x00), { maxLength: 60 }).map((a) => Uint8Array.from(a)),
      ),
      (septets) => assert.equal(decodeGsm7(septets), reference(septets)),
    ),
    { numRuns: 300 },
  );
});
