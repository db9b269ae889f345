import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  GSM7_BASIC_CHARS,
  GSM7_EXTENSION_CHARS,
  analyze,
  decodeShortMessage,
  encodeGsm7,
  encodeUcs2,
  isHighSurrogate,
  isLowSurrogate,
  segmentLimits,
  splitMessage,
  type ConcatMode,
  type SplitResult,
} from './index.js';

const gsmBasic = fc.constantFrom(...GSM7_BASIC_CHARS);
const gsmExtension = fc.constantFrom(...GSM7_EXTENSION_CHARS);
const bmp = fc
  .integer({ min: 0, max: 0xffff })
  .filter((u) => u < 0xd800 || u > 0xdfff)
  .map((u) => String.fromCharCode(u));
const astral = fc.integer({ min: 0x10000, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp));

const gsmText = fc
  .array(fc.oneof({ weight: 6, arbitrary: gsmBasic }, { weight: 1, arbitrary: gsmExtension }), {
    maxLength: 700,
  })
  .map((chars) => chars.join(''));
const mixedText = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: gsmBasic },
      { weight: 2, arbitrary: gsmExtension },
      { weight: 2, arbitrary: bmp },
      { weight: 2, arbitrary: astral },
    ),
    { maxLength: 400 },
  )
  .map((chars) => chars.join(''));
const anyText = fc.oneof(gsmText, mixedText);

const splitModes: Exclude<ConcatMode, 'payload'>[] = ['udh8', 'udh16', 'sar'];
const splitCase = fc.record({
  body: anyText,
  concat: fc.constantFrom(...splitModes),
  reference: fc.integer({ min: 0, max: 255 }),
  packed: fc.boolean(),
});

const numRuns = 300;

function split(c: { body: string; concat: ConcatMode; reference: number; packed: boolean }): SplitResult {
  return splitMessage(c.body, { concat: c.concat, reference: c.reference, packed: c.packed });
}

void test('property: the parts concatenate back to the original text', () => {
  fc.assert(
    fc.property(splitCase, (c) => {
      assert.equal(
        split(c)
          .parts.map((p) => p.text)
          .join(''),
        c.body,
      );
    }),
    { numRuns },
  );
});

void test('property: no part exceeds 140 octets on the air, nor its unit limit', () => {
  fc.assert(
    fc.property(splitCase, (c) => {
      const result = split(c);
      const limits = segmentLimits(result.encoding, c.concat);
      const limit = result.parts.length === 1 ? limits.single : limits.multi;
      for (const part of result.parts) {
        assert.ok(part.units <= limit, `${part.units} units > ${limit}`);
        assert.ok(part.shortMessage.length <= 254);
        const udhOctets = part.esmClassUdhi ? part.shortMessage[0]! + 1 : 0;
        if (result.encoding === 'UCS-2' || c.packed) {
          assert.ok(part.shortMessage.length <= 140, `${part.shortMessage.length} octets`);
        } else {
          // Unpacked septets: one per octet here, 7 bits each once the SMSC packs them.
          const septets = part.shortMessage.length - udhOctets;
          assert.ok(udhOctets * 8 + septets * 7 <= 140 * 8, `${udhOctets} UDH octets + ${septets} septets`);
          assert.ok(part.shortMessage.length <= 160);
        }
      }
    }),
    { numRuns },
  );
});

void test('property: a surrogate pair is never split between parts', () => {
  fc.assert(
    fc.property(splitCase, (c) => {
      for (const part of split(c).parts) {
        if (part.text.length === 0) continue;
        assert.ok(!isLowSurrogate(part.text.charCodeAt(0)), 'part starts with a low surrogate');
        assert.ok(
          !isHighSurrogate(part.text.charCodeAt(part.text.length - 1)),
          'part ends with a high surrogate',
        );
      }
    }),
    { numRuns },
  );
});

void test('property: each part decodes to its own text (no escape sequence cut) with a coherent header', () => {
  fc.assert(
    fc.property(splitCase, (c) => {
      const result = split(c);
      const total = result.parts.length;
      result.parts.forEach((part, i) => {
        const decoded = decodeShortMessage(part.shortMessage, {
          dataCoding: result.dataCoding,
          udhi: part.esmClassUdhi,
          packed: c.packed,
        });
        // Packed text can end with 7 spare zero bits that read as a trailing '@': compare on the part's units.
        const text =
          c.packed && decoded.text !== undefined ? decoded.text.slice(0, part.text.length) : decoded.text;
        assert.equal(text, part.text);
        if (total === 1) {
          assert.equal(part.esmClassUdhi, false);
          assert.equal(part.sar, undefined);
        } else if (c.concat === 'sar') {
          assert.deepEqual(part.sar, { refNum: c.reference, totalSegments: total, seqNum: i + 1 });
        } else {
          assert.deepEqual(decoded.udh?.concat, {
            reference: c.reference,
            total,
            seq: i + 1,
            referenceBits: c.concat === 'udh8' ? 8 : 16,
          });
        }
      });
    }),
    { numRuns },
  );
});

void test('property: analyze counts as many segments as splitMessage makes parts', () => {
  fc.assert(
    fc.property(splitCase, (c) => {
      const result = split(c);
      const analysis = analyze(c.body, { concat: c.concat });
      assert.equal(analysis.segments, result.parts.length);
      assert.equal(analysis.encoding, result.encoding);
      assert.equal(
        analysis.units,
        result.parts.reduce((sum, p) => sum + p.units, 0),
      );
    }),
    { numRuns },
  );
});

void test('property: payload mode yields one part whose payload is the whole encoded text', () => {
  fc.assert(
    fc.property(anyText, (body) => {
      const result = splitMessage(body, { concat: 'payload' });
      assert.equal(result.parts.length, 1);
      const [part] = result.parts;
      const expected = result.encoding === 'GSM-7' ? encodeGsm7(body) : encodeUcs2(body);
      const single = analyze(body).segments === 1;
      assert.deepEqual(single ? part!.shortMessage : part!.messagePayload, expected);
      if (!single) assert.equal(part!.shortMessage.length, 0);
    }),
    { numRuns },
  );
});

void test('160 GSM characters are one segment, 161 are two', () => {
  assert.deepEqual(analyze('a'.repeat(160)), { encoding: 'GSM-7', units: 160, segments: 1, perSegment: 160 });
  assert.deepEqual(analyze('a'.repeat(161)), { encoding: 'GSM-7', units: 161, segments: 2, perSegment: 153 });
  assert.equal(analyze('a'.repeat(306)).segments, 2);
  assert.equal(analyze('a'.repeat(307)).segments, 3);
});

void test('70 UCS-2 units are one segment, 71 are two', () => {
  assert.deepEqual(analyze('ж'.repeat(70)), { encoding: 'UCS-2', units: 70, segments: 1, perSegment: 70 });
  assert.deepEqual(analyze('ж'.repeat(71)), { encoding: 'UCS-2', units: 71, segments: 2, perSegment: 67 });
  assert.equal(analyze('ж'.repeat(134)).segments, 2);
  assert.equal(analyze('ж'.repeat(135)).segments, 3);
});

void test('extension characters count two septets', () => {
  assert.deepEqual(analyze('€'), { encoding: 'GSM-7', units: 2, segments: 1, perSegment: 160 });
  assert.equal(analyze('{}[]~\\^|\f€').units, 20);
  assert.equal(analyze('a'.repeat(159) + '€').segments, 2);
  assert.equal(analyze('a'.repeat(158) + '€').segments, 1);
});

void test('an emoji forces UCS-2 and counts two units', () => {
  assert.deepEqual(analyze('hello 😀'), { encoding: 'UCS-2', units: 8, segments: 1, perSegment: 70 });
  assert.equal(analyze('ç').encoding, 'UCS-2');
  assert.equal(analyze('\u001b').encoding, 'UCS-2');
});

void test('an empty text is one GSM-7 segment with an empty short_message', () => {
  assert.deepEqual(analyze(''), { encoding: 'GSM-7', units: 0, segments: 1, perSegment: 160 });
  const result = splitMessage('', { concat: 'udh8' });
  assert.equal(result.parts.length, 1);
  assert.equal(result.parts[0]!.shortMessage.length, 0);
});

void test('udh16 and sar limits', () => {
  assert.equal(analyze('a'.repeat(304), { concat: 'udh16' }).segments, 2);
  assert.equal(analyze('a'.repeat(305), { concat: 'udh16' }).segments, 3);
  assert.deepEqual(analyze('a'.repeat(320), { concat: 'sar' }), {
    encoding: 'GSM-7',
    units: 320,
    segments: 2,
    perSegment: 160,
  });
  assert.equal(analyze('ж'.repeat(132), { concat: 'udh16' }).segments, 2);
  assert.equal(analyze('ж'.repeat(140), { concat: 'sar' }).segments, 2);
});

void test('an escape sequence at a part boundary moves whole to the next part', () => {
  const body = 'a'.repeat(152) + '€' + 'b'.repeat(10);
  const { parts } = splitMessage(body, { concat: 'udh8', reference: 1 });
  assert.equal(parts.length, 2);
  assert.equal(parts[0]!.text, 'a'.repeat(152));
  assert.equal(parts[0]!.units, 152);
  assert.equal(parts[1]!.text, '€' + 'b'.repeat(10));
  assert.deepEqual(Array.from(parts[1]!.shortMessage.subarray(0, 9)), [5, 0, 3, 1, 2, 2, 0x1b, 0x65, 0x62]);
});

void test('a surrogate pair at a part boundary moves whole to the next part', () => {
  const body = 'ж'.repeat(66) + '😀' + 'ж'.repeat(5);
  const { parts } = splitMessage(body, { concat: 'udh8', reference: 7 });
  assert.equal(parts.length, 2);
  assert.equal(parts[0]!.units, 66);
  assert.equal(parts[1]!.text, '😀' + 'ж'.repeat(5));
  assert.equal(parts[0]!.shortMessage.length, 6 + 132);
});

void test('udh8 and udh16 headers carry reference, total and sequence', () => {
  const long = 'x'.repeat(400);
  const udh8 = splitMessage(long, { concat: 'udh8', reference: 0xab });
  assert.equal(udh8.dataCoding, 0);
  assert.deepEqual(
    udh8.parts.map((p) => Array.from(p.shortMessage.subarray(0, 6))),
    [
      [5, 0, 3, 0xab, 3, 1],
      [5, 0, 3, 0xab, 3, 2],
      [5, 0, 3, 0xab, 3, 3],
    ],
  );
  assert.ok(udh8.parts.every((p) => p.esmClassUdhi));
  const udh16 = splitMessage(long, { concat: 'udh16', reference: 0x1234 });
  assert.deepEqual(Array.from(udh16.parts[1]!.shortMessage.subarray(0, 7)), [6, 8, 4, 0x12, 0x34, 3, 2]);
  assert.equal(udh16.parts[0]!.shortMessage.length, 7 + 152);
});

void test('sar parts have no UDH and carry the TLV values', () => {
  const { parts, dataCoding } = splitMessage('ж'.repeat(100), { concat: 'sar', reference: 0xbeef });
  assert.equal(dataCoding, 8);
  assert.equal(parts.length, 2);
  assert.deepEqual(parts[0]!.sar, { refNum: 0xbeef, totalSegments: 2, seqNum: 1 });
  assert.equal(parts[0]!.shortMessage.length, 140);
  assert.equal(parts[0]!.esmClassUdhi, false);
});

void test('packed GSM-7 after a 6-octet UDH fills exactly 140 octets', () => {
  const { parts } = splitMessage('a'.repeat(306), { concat: 'udh8', reference: 3, packed: true });
  assert.equal(parts.length, 2);
  assert.equal(parts[0]!.shortMessage.length, 140);
});

void test('a short text is a single plain part in every mode', () => {
  for (const concat of ['udh8', 'udh16', 'sar', 'payload'] as const) {
    const { parts } = splitMessage('hi', { concat });
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0], {
      shortMessage: Uint8Array.of(0x68, 0x69),
      esmClassUdhi: false,
      text: 'hi',
      units: 2,
    });
  }
});

void test('a long text without a usable reference is refused', () => {
  assert.throws(() => splitMessage('a'.repeat(200), { concat: 'udh8' }), RangeError);
  assert.throws(() => splitMessage('a'.repeat(200), { concat: 'udh8', reference: 256 }), RangeError);
  assert.throws(() => splitMessage('a'.repeat(200), { concat: 'sar', reference: 65536 }), RangeError);
  assert.doesNotThrow(() => splitMessage('a'.repeat(200), { concat: 'udh16', reference: 65535 }));
});

void test('more than 255 parts is refused, but fits message_payload', () => {
  assert.throws(() => splitMessage('a'.repeat(153 * 255 + 1), { concat: 'udh8', reference: 1 }), /255/);
  assert.doesNotThrow(() => splitMessage('a'.repeat(153 * 255), { concat: 'udh8', reference: 1 }));
  const { parts } = splitMessage('a'.repeat(153 * 255 + 1), { concat: 'payload' });
  assert.equal(parts[0]!.messagePayload?.length, 153 * 255 + 1);
});
