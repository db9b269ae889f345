import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpStatuses, normaliseCarrierMessageId, normaliseHttpReceipts, parseCarrierSecrets, signCarrierBody, verifyCarrierSignature } from './http-receipt.js';
import { parseReceipt } from './receipt-parser.js';

describe('HTTP carrier receipts', () => {
  it('normalises every accepted status through the same parser as SMPP receipts', () => {
    const expected: Record<string, string> = {
      delivered: 'delivered', DELIVRD: 'delivered', undelivered: 'undelivered', undeliverable: 'undelivered', UNDELIV: 'undelivered',
      failed: 'undelivered', expired: 'expired', rejected: 'rejected', REJECTD: 'rejected', deleted: 'undelivered', unknown: 'undelivered',
      accepted: 'accepted', ACCEPTD: 'accepted', enroute: 'enroute', sent: 'enroute',
    };
    assert.equal(Object.keys(expected).length, httpStatuses.size);
    for (const [status, ours] of Object.entries(expected)) {
      const result = normaliseHttpReceipts({ carrierMessageId: 'abc', status });
      assert.ok(result.ok, status);
      const parsed = parseReceipt(result.receipts[0]!);
      assert.equal(parsed.kind, 'parsed', status);
      assert.equal(parsed.kind === 'parsed' && parsed.status, ours, status);
      assert.equal(parsed.kind === 'parsed' && parsed.source, 'tlv', status);
    }
  });

  it('keeps the raw values in the receipt text, with the done date in SMPP form', () => {
    const result = normaliseHttpReceipts({ carrierMessageId: 12345, status: 'Delivered', errorCode: 0, doneAt: '2026-03-04T05:06:07Z' });
    assert.ok(result.ok);
    assert.deepEqual(result.receipts, [
      { carrierMessageId: '12345', messageState: 2, networkErrorCode: '0', text: 'id:12345 done date:2603040506 stat:DELIVRD err:0' },
    ]);
    // The correlation key is normalised as carrier-dispatch normalises submit responses; the text keeps the raw id.
    const padded = normaliseHttpReceipts({ carrierMessageId: ' 00AB12CD ', status: 'delivered' });
    assert.ok(padded.ok);
    assert.equal(padded.receipts[0]!.carrierMessageId, 'ab12cd');
    assert.equal(padded.receipts[0]!.text, 'id:00AB12CD stat:DELIVRD');
    // Idempotent like carrier-dispatch's copy: zeros before a space stay (stripping them exposed the space).
    for (const raw of ['0 !', '00AB', '000', ' 0x ']) {
      assert.equal(normaliseCarrierMessageId(normaliseCarrierMessageId(raw)), normaliseCarrierMessageId(raw), raw);
    }
    assert.equal(normaliseCarrierMessageId('0 !'), '0 !');
  });

  it('an unknown status is kept (unparseable downstream), and cannot inject receipt fields', () => {
    const result = normaliseHttpReceipts({ carrierMessageId: 'a1', status: 'lost stat:DELIVRD' });
    assert.ok(result.ok);
    assert.equal(result.receipts[0]!.messageState, undefined);
    assert.equal(result.receipts[0]!.text, 'id:a1 stat:lost_stat_DELIVRD');
    assert.equal(parseReceipt(result.receipts[0]!).kind, 'unparseable');
  });

  it('names every bad field, in arrays by index', () => {
    const result = normaliseHttpReceipts([{ carrierMessageId: '', status: 'delivered' }, { carrierMessageId: 'x', status: 3, doneAt: 'soon' }, 'junk']);
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems.map((p) => p.field), ['[0].carrierMessageId', '[1].status', '[1].doneAt', '[2]']);
    assert.equal(normaliseHttpReceipts([]).ok, false);
    assert.equal(normaliseHttpReceipts(null).ok, false);
    assert.equal(normaliseHttpReceipts(Array.from({ length: 1001 }, () => ({ carrierMessageId: 'a', status: 'delivered' }))).ok, false);
  });

  it('verifies the HMAC over timestamp and raw body, with any of the carrier secrets, within the tolerance', () => {
    const body = Buffer.from('{"carrierMessageId":"a","status":"delivered"}');
    const now = 1_800_000_000_000;
    const ts = String(now / 1000);
    const sig = `sha256=${signCarrierBody('second-secret-0123', ts, body)}`;
    assert.deepEqual(verifyCarrierSignature(['first-secret-01234', 'second-secret-0123'], body, ts, sig, now), { ok: true });
    assert.equal(verifyCarrierSignature(['first-secret-01234'], body, ts, sig, now).ok, false);
    assert.equal(verifyCarrierSignature(['second-secret-0123'], Buffer.from(`${body.toString()} `), ts, sig, now).ok, false);
    assert.equal(verifyCarrierSignature(['second-secret-0123'], body, ts, sig, now + 301_000).ok, false);
    assert.equal(verifyCarrierSignature(['second-secret-0123'], body, undefined, sig, now).ok, false);
    assert.equal(verifyCarrierSignature(['second-secret-0123'], body, ts, 'sha256=zz', now).ok, false);
  });

  it('parses the carrier secrets variable', () => {
    assert.deepEqual(parseCarrierSecrets(''), new Map());
    assert.deepEqual(
      parseCarrierSecrets('acme=0123456789abcdef, acme=fedcba9876543210==,other=aaaaaaaaaaaaaaaa'),
      new Map([
        ['acme', ['0123456789abcdef', 'fedcba9876543210==']],
        ['other', ['aaaaaaaaaaaaaaaa']],
      ]),
    );
    assert.throws(() => parseCarrierSecrets('acme=short'), /at least 16/);
    assert.throws(() => parseCarrierSecrets('Bad Id=0123456789abcdef'), /not a carrier id/);
  });
});
