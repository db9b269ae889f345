import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  carrierCodeOf,
  parseReceipt,
  parseReceiptText,
  redactReceiptText,
  statusOfMessageState,
  type ReceiptStatus,
} from './receipt-parser.js';

const standard = (stat: string, err = '000') =>
  `id:0A1B2C3D sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:${stat} err:${err} text:Your code is 12`;

void describe('receipt text fields', () => {
  void test('splits a standard SMPP 3.4 Appendix B receipt', () => {
    assert.deepEqual(parseReceiptText(standard('DELIVRD')), {
      id: '0A1B2C3D',
      sub: '001',
      dlvrd: '001',
      submitDate: '2501011200',
      doneDate: '2501011201',
      stat: 'DELIVRD',
      err: '000',
      text: 'Your code is 12',
    });
  });

  void test('keys are case-insensitive and date keys may use _ or -', () => {
    const fields = parseReceiptText(
      'ID:abc SUB:1 DLVRD:1 Submit_Date:2501011200 DONE-DATE:2501011201 Stat:delivrd Err:0',
    );
    assert.equal(fields.id, 'abc');
    assert.equal(fields.submitDate, '2501011200');
    assert.equal(fields.doneDate, '2501011201');
    assert.equal(fields.stat, 'delivrd');
    assert.equal(fields.err, '0');
  });

  void test('missing fields are absent, not empty', () => {
    const fields = parseReceiptText('stat:UNDELIV');
    assert.deepEqual(fields, { stat: 'UNDELIV' });
  });

  void test('text after stat is message text even when it looks like a field', () => {
    const fields = parseReceiptText('id:1 stat:DELIVRD err:000 text:stat:UNDELIV err:999 hi');
    assert.equal(fields.stat, 'DELIVRD');
    assert.equal(fields.err, '000');
    assert.equal(fields.text, 'stat:UNDELIV err:999 hi');
  });

  void test('a text field before stat does not swallow the stat', () => {
    const fields = parseReceiptText('id:1 text:hello there stat:EXPIRED err:012');
    assert.equal(fields.text, 'hello there');
    assert.equal(fields.stat, 'EXPIRED');
    assert.equal(fields.err, '012');
  });

  void test('a key inside a word is not a key', () => {
    const fields = parseReceiptText('msgid:XYZ substat:FOO stat:REJECTD');
    assert.equal(fields.id, undefined);
    assert.equal(fields.stat, 'REJECTD');
  });

  void test('first occurrence of a repeated key wins', () => {
    assert.equal(parseReceiptText('stat:DELIVRD stat:UNDELIV').stat, 'DELIVRD');
  });

  void test('junk after a value is ignored', () => {
    assert.equal(parseReceiptText('stat:DELIVRD extra junk err:000').stat, 'DELIVRD');
  });
});

void describe('receipt status', () => {
  const statCases: [string, ReceiptStatus][] = [
    ['DELIVRD', 'delivered'],
    ['EXPIRED', 'expired'],
    ['DELETED', 'undelivered'],
    ['UNDELIV', 'undelivered'],
    ['UNKNOWN', 'undelivered'],
    ['REJECTD', 'rejected'],
    ['ENROUTE', 'enroute'],
    ['ACCEPTD', 'accepted'],
    ['delivrd', 'delivered'],
    ['DELIVERED', 'delivered'],
  ];
  for (const [stat, status] of statCases) {
    void test(`text stat ${stat} -> ${status}`, () => {
      const parsed = parseReceipt({ text: standard(stat) });
      assert.equal(parsed.kind, 'parsed');
      assert.equal(parsed.kind === 'parsed' && parsed.status, status);
      assert.equal(parsed.kind === 'parsed' && parsed.source, 'text');
      assert.equal(parsed.stat, stat, 'raw stat kept as written');
    });
  }

  const stateCases: [number, ReceiptStatus, string][] = [
    [1, 'enroute', 'ENROUTE'],
    [2, 'delivered', 'DELIVRD'],
    [3, 'expired', 'EXPIRED'],
    [4, 'undelivered', 'DELETED'],
    [5, 'undelivered', 'UNDELIV'],
    [6, 'accepted', 'ACCEPTD'],
    [7, 'undelivered', 'UNKNOWN'],
    [8, 'rejected', 'REJECTD'],
  ];
  for (const [state, status, stat] of stateCases) {
    void test(`message_state TLV ${state} -> ${status}`, () => {
      assert.equal(statusOfMessageState(state), status);
      const parsed = parseReceipt({ messageState: state, text: '' });
      assert.deepEqual(parsed.kind === 'parsed' && [parsed.status, parsed.source, parsed.stat], [
        status,
        'tlv',
        stat,
      ]);
    });
  }

  void test('the TLV wins over the text, and the raw text stat is kept', () => {
    const parsed = parseReceipt({ messageState: 5, text: standard('DELIVRD', '001') });
    assert.equal(parsed.kind === 'parsed' && parsed.status, 'undelivered');
    assert.equal(parsed.stat, 'DELIVRD');
    assert.equal(parsed.err, '001');
  });

  void test('the TLV rescues a garbled text', () => {
    const parsed = parseReceipt({ messageState: 2, text: '\u0000\u0001garbage' });
    assert.equal(parsed.kind === 'parsed' && parsed.status, 'delivered');
  });

  void test('an unknown TLV value falls back to the text', () => {
    for (const state of [0, 9, 255]) {
      const parsed = parseReceipt({ messageState: state, text: standard('EXPIRED') });
      assert.equal(parsed.kind === 'parsed' && parsed.source, 'text');
      assert.equal(parsed.kind === 'parsed' && parsed.status, 'expired');
    }
  });

  void test('network_error_code is the err when the text has none', () => {
    assert.equal(parseReceipt({ messageState: 5, networkErrorCode: '03:0014', text: '' }).err, '03:0014');
    assert.equal(parseReceipt({ networkErrorCode: '03:0014', text: 'stat:UNDELIV err:001' }).err, '001');
  });

  void test('garbage text is unparseable, not a throw', () => {
    for (const text of [
      '',
      'hello world',
      '::::',
      'stat:',
      'stat: err:001',
      '{"json":true}',
      'id:1 sub:001',
    ]) {
      const parsed = parseReceipt({ text });
      assert.equal(parsed.kind, 'unparseable', text);
    }
  });

  void test('an unknown stat value is unparseable but kept raw', () => {
    const parsed = parseReceipt({ text: 'id:1 stat:FOOBAR err:042' });
    assert.deepEqual([parsed.kind, parsed.stat, parsed.err], ['unparseable', 'FOOBAR', '042']);
  });

  void test('never throws, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        (text, messageState) => {
          const parsed = parseReceipt({ text, messageState });
          assert.ok(parsed.kind === 'parsed' || parsed.kind === 'unparseable');
        },
      ),
      { numRuns: 500 },
    );
  });

  void test('finds the stat wherever the known fields are shuffled', () => {
    const fieldArb = fc.constantFrom(
      'id:ABC',
      'sub:001',
      'dlvrd:001',
      'submit date:2501011200',
      'done date:2501011201',
      'err:000',
    );
    fc.assert(
      fc.property(fc.array(fieldArb, { maxLength: 6 }), fc.nat(6), (others, position) => {
        const tokens: string[] = [...others];
        tokens.splice(Math.min(position, tokens.length), 0, 'stat:UNDELIV');
        const parsed = parseReceipt({ text: tokens.join(' ') });
        assert.equal(parsed.kind === 'parsed' && parsed.status, 'undelivered');
      }),
    );
  });
});

void describe('carrier code', () => {
  void test('formats stat and err like the receipt', () => {
    assert.equal(carrierCodeOf({ stat: 'UNDELIV', err: '001' }), 'stat:UNDELIV err:001');
    assert.equal(carrierCodeOf({ stat: 'DELIVRD' }), 'stat:DELIVRD');
    assert.equal(carrierCodeOf({}), undefined);
  });

  void test('fits the 64-character reason field', () => {
    assert.equal(carrierCodeOf({ stat: 'X'.repeat(100), err: '1' })!.length, 64);
  });
});

void describe('receipt text redaction', () => {
  void test('removes the echoed message text, keeps the rest', () => {
    assert.equal(
      redactReceiptText(standard('DELIVRD')),
      'id:0A1B2C3D sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:[redacted]',
    );
  });

  void test('redacts a text field that comes before the stat', () => {
    assert.equal(
      redactReceiptText('id:1 text:secret 1234 stat:EXPIRED'),
      'id:1 text:[redacted] stat:EXPIRED',
    );
  });

  void test('leaves receipts without text (or with an empty one) alone', () => {
    assert.equal(redactReceiptText('id:1 stat:DELIVRD err:000'), 'id:1 stat:DELIVRD err:000');
    assert.equal(redactReceiptText('id:1 stat:DELIVRD text:'), 'id:1 stat:DELIVRD text:');
    assert.equal(redactReceiptText('garbage'), 'garbage');
  });

  void test('the redacted receipt parses to the same status', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('DELIVRD', 'UNDELIV', 'EXPIRED', 'REJECTD'),
        fc.string({ maxLength: 40 }),
        (stat, body) => {
          const text = `id:1 stat:${stat} err:000 text:${body}`;
          const redacted = redactReceiptText(text);
          const prefix = `id:1 stat:${stat} err:000 text:`;
          assert.ok(
            redacted === `${prefix}${body}`
              ? body.trim() === ''
              : redacted.startsWith(prefix) &&
                  redacted.endsWith(' '.repeat(body.length - body.trimEnd().length)),
          );
          assert.ok(
            !redacted.slice(prefix.length).includes(body.trim()) ||
              body.trim() === '' ||
              '[redacted]'.includes(body.trim()),
          );
          assert.deepEqual(parseReceipt({ text: redacted }).stat, stat);
        },
      ),
    );
  });
});

void describe('receipt ids', () => {
  test('keeps the id as the carrier wrote it, hex or decimal, leading zeros included (carrier-dispatch normalises the correlation key)', () => {
    for (const id of ['0A1B2C3D', '9f86d081884c7d65', '000123456789', '4294967295']) {
      const fields = parseReceiptText(`id:${id} sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:`);
      assert.equal(fields.id, id);
    }
  });
});
