import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import smpp from 'smpp';
import {
  SmppClientSession,
  SmppCommandError,
  SmppPduError,
  SmppSessionError,
  backoffDelay,
  commandStatusName,
  isReceiptEsmClass,
  parseDeliverBody,
  parseReceiptText,
  validateSubmit,
  type SmppClientSessionOptions,
  type SubmitSmRequest,
} from './index.js';

const baseSubmit: SubmitSmRequest = {
  sourceAddr: 'ACME',
  destinationAddr: '447700900123',
  shortMessage: Uint8Array.of(0x68, 0x69),
  esmClass: 0,
  dataCoding: 0,
  registeredDelivery: 1,
};

const sessionOptions: SmppClientSessionOptions = {
  name: 'unit',
  host: '127.0.0.1',
  port: 1,
  systemId: 'id',
  password: 'pw',
  bindType: 'transceiver',
  window: 2,
  responseTimeoutMs: 100,
  enquireLinkIntervalMs: 1000,
  deadLinkTimeoutMs: 500,
  reconnect: { initialDelayMs: 10, maxDelayMs: 100, jitter: 0 },
  sourceTon: 5,
  sourceNpi: 0,
  destTon: 1,
  destNpi: 1,
};

void test('command status names come from the spec table, vendor codes are shown in hex', () => {
  assert.equal(commandStatusName(0x58), 'ESME_RTHROTTLED');
  assert.equal(commandStatusName(0x0e), 'ESME_RINVPASWD');
  assert.equal(commandStatusName(0x400), 'ESME_0x00000400');
  const throttled = new SmppCommandError('submit_sm', 0x58);
  assert.equal(throttled.name, 'ESME_RTHROTTLED');
  assert.equal(throttled.commandStatus, 0x58);
  assert.equal(throttled.retryable, true);
  assert.equal(new SmppCommandError('submit_sm', 0x0b).retryable, false);
  assert.ok(throttled instanceof SmppCommandError);
});

void test('property: backoff grows exponentially, stays under the cap and within the jitter band', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 1, max: 120000 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (attempt, initialDelayMs, maxDelayMs, jitter, random) => {
        const options = { initialDelayMs, maxDelayMs, jitter };
        const capped = Math.min(maxDelayMs, initialDelayMs * 2 ** attempt);
        const delay = backoffDelay(attempt, options, () => random);
        assert.ok(delay <= Math.round(capped));
        assert.ok(delay >= Math.floor(capped * (1 - jitter)) - 1);
      },
    ),
  );
  const noJitter = { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, noJitter)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

void test('submits breaking SMPP limits are refused before reaching the smpp package', () => {
  assert.doesNotThrow(() => validateSubmit({ ...baseSubmit, shortMessage: new Uint8Array(254) }));
  assert.throws(() => validateSubmit({ ...baseSubmit, shortMessage: new Uint8Array(255) }), SmppPduError);
  assert.throws(() => validateSubmit({ ...baseSubmit, shortMessage: new Uint8Array(300) }), /254/);
  assert.throws(
    () => validateSubmit({ ...baseSubmit, messagePayload: Uint8Array.of(1) }),
    /short_message and message_payload/,
  );
  assert.doesNotThrow(() =>
    validateSubmit({ ...baseSubmit, shortMessage: new Uint8Array(0), messagePayload: new Uint8Array(1000) }),
  );
  assert.throws(() => validateSubmit({ ...baseSubmit, destinationAddr: '1'.repeat(21) }), /destination_addr/);
  assert.throws(() => validateSubmit({ ...baseSubmit, sourceAddr: 'Café' }), /source_addr/);
  assert.throws(() => validateSubmit({ ...baseSubmit, dataCoding: 256 }), /data_coding/);
  assert.throws(
    () => validateSubmit({ ...baseSubmit, sar: { refNum: 1, totalSegments: 2, seqNum: 3 } }),
    /sar/,
  );
  assert.throws(() => validateSubmit({ ...baseSubmit, validityPeriod: '1d' }), /validity_period/);
  assert.doesNotThrow(() => validateSubmit({ ...baseSubmit, validityPeriod: '000001000000000R' }));
});

void test('a session that was never started refuses submits with a retryable not_bound', async () => {
  const session = new SmppClientSession(sessionOptions);
  assert.equal(session.state, 'closed');
  await assert.rejects(session.submit(baseSubmit), (error: unknown) => {
    assert.ok(error instanceof SmppSessionError);
    assert.equal(error.code, 'not_bound');
    assert.equal(error.retryable, true);
    assert.equal(error.maybeAccepted, false);
    return true;
  });
  await assert.rejects(session.submit({ ...baseSubmit, shortMessage: new Uint8Array(255) }), SmppPduError);
  assert.equal(session.counters.errors, 1);
  await session.stop();
});

void test('a deliver_sm is parsed from its raw bytes, TLVs included', () => {
  const shortMessage = Buffer.from([0x00, 0x40, 0x5f, 0x80, 0xff, 0x1b]);
  const pdu = new smpp.PDU('deliver_sm', {
    sequence_number: 42,
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900123',
    dest_addr_ton: 5,
    destination_addr: 'ACME',
    esm_class: 0x04,
    data_coding: 0,
    short_message: shortMessage,
    receipted_message_id: 'abc_1',
    message_state: 2,
    network_error_code: Buffer.from([3, 0x01, 0x02]),
  });
  const deliver = parseDeliverBody(pdu.toBuffer().subarray(4), new Date(0));
  assert.equal(deliver.command, 'deliver_sm');
  assert.equal(deliver.sequenceNumber, 42);
  assert.equal(deliver.sourceAddr, '447700900123');
  assert.equal(deliver.destinationAddr, 'ACME');
  assert.equal(deliver.destTon, 5);
  assert.deepEqual(deliver.shortMessage, shortMessage);
  assert.equal(deliver.receiptedMessageId, 'abc_1');
  assert.equal(deliver.messageState, 2);
  assert.deepEqual(deliver.networkErrorCode, { networkType: 3, errorCode: 0x0102 });
  assert.equal(deliver.isReceipt, true);
  assert.equal(deliver.receipt, undefined);
  assert.throws(() => parseDeliverBody(pdu.toBuffer().subarray(4, 30)), RangeError);
});

void test('a data_sm with message_payload and SAR TLVs is parsed', () => {
  const pdu = new smpp.PDU('data_sm', {
    sequence_number: 7,
    source_addr: '1234',
    destination_addr: '5678',
    esm_class: 0,
    data_coding: 8,
    message_payload: Buffer.from([0x04, 0x36]),
    sar_msg_ref_num: 0xbeef,
    sar_total_segments: 2,
    sar_segment_seqnum: 1,
  });
  const deliver = parseDeliverBody(pdu.toBuffer().subarray(4));
  assert.equal(deliver.command, 'data_sm');
  assert.equal(deliver.dataCoding, 8);
  assert.deepEqual(deliver.messagePayload, Buffer.from([0x04, 0x36]));
  assert.equal(deliver.shortMessage.length, 0);
  assert.deepEqual(deliver.sar, { refNum: 0xbeef, totalSegments: 2, seqNum: 1 });
  assert.equal(deliver.isReceipt, false);
});

void test('receipt texts are parsed and esm_class message types recognised', () => {
  assert.deepEqual(
    parseReceiptText(
      'id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello wor',
    ),
    {
      id: '0123456789',
      sub: '001',
      dlvrd: '001',
      submitDate: '2401011200',
      doneDate: '2401011201',
      stat: 'DELIVRD',
      err: '000',
      text: 'Hello wor',
    },
  );
  assert.deepEqual(parseReceiptText('ID:ab12 STAT:UNDELIV ERR:001'), {
    id: 'ab12',
    stat: 'UNDELIV',
    err: '001',
  });
  assert.equal(parseReceiptText('hello there'), undefined);
  assert.equal(parseReceiptText('text: id:forged'), undefined);
  assert.equal(isReceiptEsmClass(0x04), true);
  assert.equal(isReceiptEsmClass(0x44), true);
  assert.equal(isReceiptEsmClass(0x20), true);
  assert.equal(isReceiptEsmClass(0x08), false);
  assert.equal(isReceiptEsmClass(0x00), false);
  assert.equal(isReceiptEsmClass(0x40), false);
});
