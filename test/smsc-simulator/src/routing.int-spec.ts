import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import smpp from 'smpp';
import { reassemble } from './reassemble.js';
import { magicNumber } from './simulator.js';
import { messageText, RECEIPT_PATTERN, sleep, withSimulator } from './test-client.js';

const T = { timeout: 5000 };
const ucs2 = (text: string): Buffer => Buffer.from(text, 'utf16le').swap16();

void describe('receipt routing', () => {
  void it('sends receipts for a transmitter bind to a receiver bind of the same system_id', T, () =>
    withSimulator({}, async ({ bound }) => {
      const receiver = await bound('receiver');
      const strangerReceiver = await bound('receiver', { systemId: 'other', password: 'pw' }).catch(
        () => null,
      );
      assert.equal(strangerReceiver, null, 'unknown account cannot bind');
      const transmitter = await bound('transmitter');
      const resp = await transmitter.submit({
        destination_addr: magicNumber('DELIVERED'),
        short_message: Buffer.from('hi'),
        registered_delivery: 1,
      });
      const [receipt] = await receiver.deliveries(1);
      assert.equal(receipt?.receipted_message_id, resp.message_id);
    }),
  );

  void it('never sends one system_id’s receipts to another system_id', T, () =>
    withSimulator(
      {
        credentials: [
          { systemId: 'a', password: 'pa' },
          { systemId: 'b', password: 'pb' },
        ],
      },
      async ({ bound, sim }) => {
        const receiverB = await bound('receiver', { systemId: 'b', password: 'pb' });
        const transmitterA = await bound('transmitter', { systemId: 'a', password: 'pa' });
        await transmitterA.submit({
          destination_addr: magicNumber('DELIVERED'),
          short_message: Buffer.from('x'),
          registered_delivery: 1,
        });
        await sleep(100);
        assert.equal(receiverB.delivered.length, 0);
        assert.equal(sim.stats().receipts.queued, 1);
      },
    ),
  );

  void it('queues a receipt while no bind can receive and delivers it when one binds', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const transmitter = await bound('transmitter');
      const resp = await transmitter.submit({
        destination_addr: magicNumber('UNDELIVERABLE'),
        short_message: Buffer.from('hi'),
        registered_delivery: 1,
      });
      await sleep(80);
      assert.equal(sim.stats().receipts.queued, 1);
      const receiver = await bound('receiver');
      const [receipt] = await receiver.deliveries(1);
      assert.equal(receipt?.receipted_message_id, resp.message_id);
      assert.equal(receipt?.message_state, 5);
      assert.equal(sim.stats().receipts.queued, 0);
    }),
  );

  void it('keeps the receipt when the transceiver that submitted is gone, until it rebinds', T, () =>
    withSimulator({ receiptDelayMs: 100 }, async ({ bound }) => {
      const first = await bound('transceiver');
      const resp = await first.submit({
        destination_addr: magicNumber('DELIVERED'),
        short_message: Buffer.from('x'),
        registered_delivery: 1,
      });
      first.destroy();
      await sleep(150);
      const second = await bound('transceiver');
      const [receipt] = await second.deliveries(1);
      assert.equal(receipt?.receipted_message_id, resp.message_id);
    }),
  );

  void it('re-sends an unacknowledged receipt after the connection drops (at-least-once)', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const hung = await bound('transceiver');
      hung.ackStatus = null;
      const resp = await hung.submit({
        destination_addr: magicNumber('DELIVERED'),
        short_message: Buffer.from('x'),
        registered_delivery: 1,
      });
      await hung.deliveries(1);
      hung.destroy();
      const next = await bound('receiver');
      const [again] = await next.deliveries(1);
      assert.equal(again?.receipted_message_id, resp.message_id);
      assert.equal(sim.stats().receipts.retried, 1);
    }),
  );

  void it('retries a receipt refused with an error deliver_sm_resp', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound();
      esme.ackStatus = smpp.ESME_RX_T_APPN;
      const resp = await esme.submit({
        destination_addr: magicNumber('DELIVERED'),
        short_message: Buffer.from('x'),
        registered_delivery: 1,
      });
      await esme.deliveries(1);
      esme.ackStatus = 0;
      const [, retry] = await esme.deliveries(2, 2500);
      assert.equal(retry?.receipted_message_id, resp.message_id);
      await esme.waitFor(() => sim.stats().receipts.acked === 1, 500, 'ack counted');
    }),
  );

  void it('gives up a receipt refused with ESME_RX_P_APPN (permanent) instead of sending it again', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound();
      esme.ackStatus = smpp.ESME_RX_P_APPN;
      await esme.submit({ destination_addr: magicNumber('DELIVERED'), short_message: Buffer.from('x'), registered_delivery: 1 });
      await esme.deliveries(1);
      await esme.waitFor(() => sim.stats().refusedPermanently === 1, 500, 'refusal counted');
      esme.ackStatus = 0;
      await sleep(1500); // a temporary refusal is sent again after 1 s
      assert.equal(esme.delivered.length, 1, 'not sent again');
      assert.deepEqual([sim.stats().receipts.retried, sim.stats().receipts.acked], [0, 0]);
    }),
  );
});

void describe('long messages', () => {
  void it('records 8-bit UDH parts with their own ids and receipts, and reassembles them', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound();
      const texts = ['Part one of the message, ', 'part two, ', 'and the end.'];
      const ids: string[] = [];
      for (const [i, text] of texts.entries()) {
        const udh = Buffer.from([0x05, 0x00, 0x03, 0x2a, texts.length, i + 1]);
        const resp = await esme.submit({
          destination_addr: magicNumber('DELIVERED'),
          esm_class: smpp.consts.ESM_CLASS.UDH_INDICATOR,
          short_message: Buffer.concat([udh, Buffer.from(text)]),
          registered_delivery: 1,
        });
        ids.push(resp.message_id ?? '');
      }
      assert.equal(new Set(ids).size, 3);
      const receipts = await esme.deliveries(3);
      assert.deepEqual(receipts.map((r) => r.receipted_message_id).sort(), [...ids].sort());
      assert.ok(receipts.every((r) => RECEIPT_PATTERN.test(messageText(r))));

      const records = sim.submits();
      assert.deepEqual(
        records.map((r) => r.concat),
        [1, 2, 3].map((seq) => ({ ref: 0x2a, total: 3, seq, scheme: 'udh8' })),
      );
      assert.equal(records[0]?.udh?.hex, '0500032a0301');
      assert.equal(records[0]?.text, texts[0]);
      assert.equal(records[0]?.shortMessage.slice(0, 12), '0500032a0301');
      const [message] = reassemble(records);
      assert.equal(message?.complete, true);
      assert.equal(message?.text, texts.join(''));
    }),
  );

  void it('parses 16-bit reference UDH and SAR TLVs; reports missing parts', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound();
      const udh16 = (seq: number): Buffer => Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 2, seq]);
      await esme.submit({
        destination_addr: '447700900111',
        esm_class: 0x40,
        data_coding: 8,
        short_message: Buffer.concat([udh16(2), ucs2('мир')]),
      });
      await esme.submit({
        destination_addr: '447700900111',
        esm_class: 0x40,
        data_coding: 8,
        short_message: Buffer.concat([udh16(1), ucs2('привет ')]),
      });
      for (const seq of [1, 2, 3]) {
        if (seq === 2) continue;
        await esme.submit({
          destination_addr: '447700900222',
          short_message: Buffer.from(`sar ${seq} `),
          sar_msg_ref_num: 0xbeef,
          sar_total_segments: 3,
          sar_segment_seqnum: seq,
        });
      }
      const records = sim.submits();
      assert.deepEqual(records[0]?.concat, { ref: 0x1234, total: 2, seq: 2, scheme: 'udh16' });
      assert.deepEqual(records[2]?.sar, { ref: 0xbeef, total: 3, seq: 1 });
      assert.deepEqual(records[2]?.concat, { ref: 0xbeef, total: 3, seq: 1, scheme: 'sar' });
      assert.equal(records[2]?.tlvs['0x020c'], 'beef');

      const [cyrillic, sar] = reassemble(records);
      assert.equal(cyrillic?.text, 'привет мир');
      assert.equal(sar?.complete, false);
      assert.deepEqual(sar?.missing, [2]);
      assert.equal(sar?.text, null);
    }),
  );

  void it('accepts message_payload and records it byte-exact', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound();
      const long = 'x'.repeat(400) + ' done';
      const resp = await esme.submit({
        destination_addr: magicNumber('DELIVERED'),
        message_payload: Buffer.from(long),
        registered_delivery: 1,
      });
      assert.equal(resp.command_status, smpp.ESME_ROK);
      const [record] = sim.submits();
      assert.equal(record?.shortMessage, '');
      assert.equal(record?.messagePayload, Buffer.from(long).toString('hex'));
      assert.equal(record?.text, long);
      const [receipt] = await esme.deliveries(1);
      assert.match(messageText(receipt ?? ({} as never)), / text:x{20}$/);
    }),
  );
});

void describe('mobile-originated messages', () => {
  void it('injectMo sends a deliver_sm with esm_class 0 to a receiving bind', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound('receiver');
      const result = sim.injectMo({ from: '+447700900555', to: '12345', text: 'STOP' });
      assert.deepEqual(result, { parts: 1, sent: 1, queued: 0 });
      const [mo] = await esme.deliveries(1);
      assert.ok(mo);
      assert.equal(mo.esm_class, 0);
      assert.equal(mo.data_coding, 0);
      assert.equal(mo.source_addr, '447700900555');
      assert.equal(mo.source_addr_ton, 1);
      assert.equal(mo.destination_addr, '12345');
      assert.equal(messageText(mo), 'STOP');
      await esme.waitFor(() => sim.stats().mo.acked === 1, 500, 'MO ack');
    }),
  );

  void it('encodes non-GSM text as UCS-2 and long text as concatenated parts', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound();
      assert.equal(sim.injectMo({ from: '447700900555', to: 'ACME', text: 'Привет 👋' }).parts, 1);
      const long = 'A long reply. '.repeat(20); // 280 GSM septets -> 2 parts of <= 153
      assert.equal(sim.injectMo({ from: '447700900555', to: 'ACME', text: long }).parts, 2);
      const [unicode, part1, part2] = await esme.deliveries(3);
      assert.equal(unicode?.data_coding, 8);
      assert.equal(unicode?.short_message?.message, 'Привет 👋');
      for (const [i, part] of [part1, part2].entries()) {
        assert.equal(part?.esm_class, 0x40);
        const udh = part?.short_message?.udh?.[0];
        assert.deepEqual([...(udh ?? [])].slice(0, 2), [0x00, 0x03]);
        assert.equal(udh?.[3], 2);
        assert.equal(udh?.[4], i + 1);
      }
      assert.equal(
        `${part1?.short_message?.message as string}${part2?.short_message?.message as string}`,
        long,
      );
    }),
  );

  void it('queues MO until a receiving bind (of the requested system_id) appears', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      assert.deepEqual(
        sim.injectMo({ from: '447700900555', to: '12345', text: 'hello', systemId: 'gateway' }),
        {
          parts: 1,
          sent: 0,
          queued: 1,
        },
      );
      await bound('transmitter'); // cannot receive
      assert.equal(sim.stats().mo.queued, 1);
      const receiver = await bound('receiver');
      const [mo] = await receiver.deliveries(1);
      assert.equal(messageText(mo ?? ({} as never)), 'hello');
    }),
  );
});
