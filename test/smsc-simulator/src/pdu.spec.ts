import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import smpp from 'smpp';
import {
  CommandId,
  commandStatusName,
  decodeSubmitSm,
  encodeDeliverSm,
  encodeSubmitSm,
  PduFramer,
  PduFramingError,
  tlvCString,
  tlvU8,
  TlvTag,
} from './pdu.js';

const submit = {
  serviceType: '',
  sourceAddrTon: 5,
  sourceAddrNpi: 0,
  sourceAddr: 'ACME',
  destAddrTon: 1,
  destAddrNpi: 1,
  destinationAddr: '447700900001',
  esmClass: 0x40,
  protocolId: 0,
  priorityFlag: 0,
  scheduleDeliveryTime: '',
  validityPeriod: '',
  registeredDelivery: 1,
  replaceIfPresentFlag: 0,
  dataCoding: 8,
  smDefaultMsgId: 0,
  shortMessage: Buffer.from([0x05, 0x00, 0x03, 1, 2, 1, 0x00, 0x41]),
};

void describe('PduFramer', () => {
  void it('reassembles PDUs split across and packed into chunks', () => {
    const a = encodeSubmitSm(1, submit);
    const b = encodeSubmitSm(2, submit);
    const both = Buffer.concat([a, b]);
    const framer = new PduFramer();
    assert.deepEqual(framer.push(both.subarray(0, 10)), []);
    const first = framer.push(both.subarray(10, a.length + 3));
    assert.deepEqual(
      first.map((p) => p.sequenceNumber),
      [1],
    );
    const second = framer.push(both.subarray(a.length + 3));
    assert.deepEqual(
      second.map((p) => [p.commandId, p.sequenceNumber]),
      [[CommandId.submit_sm, 2]],
    );
  });

  void it('rejects impossible lengths', () => {
    const bad = Buffer.alloc(16);
    bad.writeUInt32BE(3, 0);
    assert.throws(() => new PduFramer().push(bad), PduFramingError);
  });
});

void describe('codec against the smpp package', () => {
  void it('decodes a submit_sm the smpp package encoded, octets intact', () => {
    const pdu = new smpp.PDU('submit_sm', {
      sequence_number: 7,
      source_addr: 'ACME',
      destination_addr: '447700900001',
      data_coding: 0,
      short_message: Buffer.from([0x80, 0xff, 0x00, 0x1b]),
      sar_msg_ref_num: 0x1234,
      sar_total_segments: 2,
      sar_segment_seqnum: 1,
    });
    const raw = pdu.toBuffer();
    const [framed] = new PduFramer().push(raw);
    assert.ok(framed);
    const sm = decodeSubmitSm(framed.body);
    assert.deepEqual([...sm.shortMessage], [0x80, 0xff, 0x00, 0x1b]);
    assert.equal(sm.destinationAddr, '447700900001');
    assert.deepEqual([...(sm.tlvs.get(TlvTag.sar_msg_ref_num) ?? [])], [0x12, 0x34]);
  });

  void it('encodes a deliver_sm the smpp package decodes', () => {
    const raw = encodeDeliverSm(9, {
      serviceType: '',
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '447700900001',
      destAddrTon: 5,
      destAddrNpi: 0,
      destinationAddr: 'ACME',
      esmClass: 4,
      dataCoding: 0,
      shortMessage: Buffer.from('id:0123456789 stat:DELIVRD'),
      tlvs: [tlvCString(TlvTag.receipted_message_id, '0123456789'), tlvU8(TlvTag.message_state, 2)],
    });
    const pdu = smpp.PDU.fromBuffer(raw);
    assert.ok(pdu);
    assert.equal(pdu.command, 'deliver_sm');
    assert.equal(pdu.sequence_number, 9);
    assert.equal(pdu.source_addr, '447700900001');
    assert.equal(pdu.esm_class, 4);
    assert.equal(pdu.receipted_message_id, '0123456789');
    assert.equal(pdu.message_state, 2);
    assert.equal(pdu.short_message?.message, 'id:0123456789 stat:DELIVRD');
  });

  void it('names statuses', () => {
    assert.equal(commandStatusName(smpp.ESME_RTHROTTLED), 'ESME_RTHROTTLED');
    assert.equal(commandStatusName(0x1234), '0x00001234');
  });
});
