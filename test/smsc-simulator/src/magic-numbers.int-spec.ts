import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import smpp from 'smpp';
import { MAGIC_NUMBERS, magicBehaviourOf, magicNumber } from './simulator.js';
import { messageText, RECEIPT_PATTERN, sleep, withSimulator } from './test-client.js';

const T = { timeout: 5000 };
const MESSAGE_ID = /^[0-9a-f]{10}$/;

void describe('magic destination numbers', () => {
  void it('exports the documented mapping', () => {
    assert.deepEqual(MAGIC_NUMBERS, {
      DELIVERED: '0001',
      UNDELIVERABLE: '0002',
      INVALID_DESTINATION: '0003',
      REJECTED: '0004',
      EXPIRED: '0005',
      THROTTLED: '0006',
      NO_RESPONSE: '0007',
      TRANSIENT_ERROR: '0008',
      NO_RECEIPT: '0009',
    });
    assert.equal(magicBehaviourOf('+4915112340002'), 'UNDELIVERABLE');
    assert.equal(magicBehaviourOf('0005'), 'EXPIRED');
    assert.equal(magicBehaviourOf('447700900123'), null);
    assert.equal(magicNumber('EXPIRED'), '447700900005');
  });

  const receiptCases = [
    {
      name: 'DELIVERED',
      stat: 'DELIVRD',
      dlvrd: '001',
      err: '000',
      state: smpp.consts.MESSAGE_STATE.DELIVERED,
      nec: null,
    },
    { name: 'UNDELIVERABLE', stat: 'UNDELIV', dlvrd: '000', err: '001', state: 5, nec: [3, 0, 1] },
    { name: 'REJECTED', stat: 'REJECTD', dlvrd: '000', err: '013', state: 8, nec: [3, 0, 13] },
    { name: 'EXPIRED', stat: 'EXPIRED', dlvrd: '000', err: '027', state: 3, nec: [3, 0, 27] },
  ] as const;

  for (const c of receiptCases) {
    void it(`${MAGIC_NUMBERS[c.name]} -> accepted, receipt stat:${c.stat} message_state ${c.state}`, T, () =>
      withSimulator({}, async ({ bound, sim }) => {
        const esme = await bound();
        const destination = `+3361234${MAGIC_NUMBERS[c.name]}`;
        const resp = await esme.submit({
          source_addr: 'ACME',
          source_addr_ton: 5,
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: destination,
          short_message: Buffer.from('Your code is 123456, valid 5 minutes'),
          registered_delivery: 1,
        });
        assert.equal(resp.command_status, smpp.ESME_ROK);
        const messageId = resp.message_id ?? '';
        assert.match(messageId, MESSAGE_ID);

        const [receipt] = await esme.deliveries(1);
        assert.ok(receipt);
        assert.equal(receipt.esm_class, smpp.consts.ESM_CLASS.MC_DELIVERY_RECEIPT);
        // Swapped: the receipt comes from the handset back to the sender.
        assert.equal(receipt.source_addr, destination);
        assert.equal(receipt.source_addr_ton, 1);
        assert.equal(receipt.source_addr_npi, 1);
        assert.equal(receipt.destination_addr, 'ACME');
        assert.equal(receipt.dest_addr_ton, 5);
        assert.equal(receipt.receipted_message_id, messageId);
        assert.equal(receipt.message_state, c.state);
        if (c.nec === null) assert.equal(receipt.network_error_code, undefined);
        else assert.deepEqual([...(receipt.network_error_code ?? [])], c.nec);

        const match = RECEIPT_PATTERN.exec(messageText(receipt));
        assert.ok(match, `receipt text: ${messageText(receipt)}`);
        const [, id, dlvrd, submitDate, doneDate, stat, err, text] = match;
        assert.equal(id, messageId);
        assert.equal(dlvrd, c.dlvrd);
        assert.equal(stat, c.stat);
        assert.equal(err, c.err);
        assert.equal(text, 'Your code is 123456,');
        const now = new Date();
        const yymmdd = now.toISOString().slice(2, 10).replaceAll('-', '');
        assert.ok(submitDate?.startsWith(yymmdd.slice(0, 4)) && doneDate?.startsWith(yymmdd.slice(0, 4)));

        const [record] = sim.submits();
        assert.equal(record?.messageId, messageId);
        assert.equal(record?.magic, c.name);
        assert.ok(record?.receiptSentAt);
      }),
    );
  }

  void it('delivers any other number (default outcome)', T, () =>
    withSimulator({}, async ({ bound }) => {
      const esme = await bound();
      const resp = await esme.submit({
        destination_addr: '447700900123',
        short_message: Buffer.from('hi'),
        registered_delivery: 1,
      });
      assert.equal(resp.command_status, smpp.ESME_ROK);
      const [receipt] = await esme.deliveries(1);
      assert.ok(receipt);
      assert.match(messageText(receipt), / stat:DELIVRD err:000 text:hi$/);
      assert.equal(receipt.message_state, 2);
    }),
  );

  const submitErrors = [
    { name: 'INVALID_DESTINATION', status: smpp.ESME_RINVDSTADR },
    { name: 'THROTTLED', status: smpp.ESME_RTHROTTLED },
    { name: 'TRANSIENT_ERROR', status: smpp.ESME_RSYSERR },
  ] as const;

  for (const c of submitErrors) {
    void it(
      `${MAGIC_NUMBERS[c.name]} -> submit_sm_resp status 0x${c.status.toString(16)}, no receipt`,
      T,
      () =>
        withSimulator({}, async ({ bound, sim }) => {
          const esme = await bound();
          const resp = await esme.submit({
            destination_addr: magicNumber(c.name),
            short_message: Buffer.from('hello'),
            registered_delivery: 1,
          });
          assert.equal(resp.command_status, c.status);
          assert.equal(resp.message_id, undefined, 'error responses carry no body');
          await sleep(100);
          assert.equal(esme.delivered.length, 0);
          const [record] = sim.submits();
          assert.equal(record?.commandStatus, c.status);
          assert.equal(record?.messageId, null);
          assert.equal(record?.receiptExpected, false);
        }),
    );
  }

  void it('0007 -> the submit_sm is swallowed: no response, no receipt', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound();
      const resp = await esme.submitExpectingSilence(
        {
          destination_addr: magicNumber('NO_RESPONSE'),
          short_message: Buffer.from('hello'),
          registered_delivery: 1,
        },
        300,
      );
      assert.equal(resp, null);
      assert.equal(esme.delivered.length, 0);
      const [record] = sim.submits();
      assert.equal(record?.responseState, 'dropped');
      assert.equal(record?.commandStatus, null);
      // The bind keeps working afterwards.
      const next = await esme.submit({
        destination_addr: magicNumber('DELIVERED'),
        short_message: Buffer.from('x'),
      });
      assert.equal(next.command_status, smpp.ESME_ROK);
    }),
  );

  void it('0009 -> accepted with a message id but never a receipt', T, () =>
    withSimulator({}, async ({ bound, sim }) => {
      const esme = await bound();
      const resp = await esme.submit({
        destination_addr: magicNumber('NO_RECEIPT'),
        short_message: Buffer.from('hello'),
        registered_delivery: 1,
      });
      assert.equal(resp.command_status, smpp.ESME_ROK);
      assert.match(resp.message_id ?? '', MESSAGE_ID);
      await sleep(200);
      assert.equal(esme.delivered.length, 0);
      assert.equal(sim.stats().receipts.sent, 0);
    }),
  );

  void it('honours registered_delivery: none, failure-only and success-only', T, () =>
    withSimulator({}, async ({ bound }) => {
      const esme = await bound();
      const send = (destination: string, registered_delivery: number): Promise<unknown> =>
        esme.submit({ destination_addr: destination, short_message: Buffer.from('x'), registered_delivery });
      await send(magicNumber('DELIVERED'), 0); // no receipt asked
      await send(magicNumber('DELIVERED'), 2); // failure only: none
      await send(magicNumber('UNDELIVERABLE'), 2); // failure only: yes
      await send(magicNumber('DELIVERED'), 3); // success only (SMPP 5.0): yes
      await send(magicNumber('EXPIRED'), 3); // success only: none
      await esme.deliveries(2);
      await sleep(150); // and no third
      assert.deepEqual(esme.delivered.map((d) => /stat:(\w+)/.exec(messageText(d))?.[1]).sort(), [
        'DELIVRD',
        'UNDELIV',
      ]);
    }),
  );

  void it('puts only ASCII/GSM-common characters of the first 20 in the receipt text', T, () =>
    withSimulator({}, async ({ bound }) => {
      const esme = await bound();
      await esme.submit({
        destination_addr: magicNumber('DELIVERED'),
        data_coding: 8,
        short_message: Buffer.from('Héllo @ wörld_€ 1234567890', 'utf16le').swap16(),
        registered_delivery: 1,
      });
      const [receipt] = await esme.deliveries(1);
      assert.ok(receipt);
      assert.match(messageText(receipt), / text:H\?llo \? w\?rld\?\? 1234$/);
    }),
  );

  void it('hands out unique 10-hex-digit message ids', T, () =>
    withSimulator({}, async ({ bound }) => {
      const esme = await bound();
      const responses = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          esme.submit({
            destination_addr: `4477009${String(i).padStart(5, '1')}`,
            short_message: Buffer.from(`m${i}`),
          }),
        ),
      );
      const ids = responses.map((r) => r.message_id ?? '');
      assert.ok(ids.every((id) => MESSAGE_ID.test(id)));
      assert.equal(new Set(ids).size, ids.length);
    }),
  );
});
