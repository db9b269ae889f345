import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import smpp from 'smpp';
import type { SimulatorEvent } from './simulator.js';
import { PASSWORD, SYSTEM_ID, TestEsme, withSimulator, withTimeout } from './test-client.js';

const T = { timeout: 5000 };

void describe('binds', () => {
  for (const bindType of ['transceiver', 'transmitter', 'receiver'] as const) {
    void it(`accepts bind_${bindType} with good credentials`, T, () =>
      withSimulator({}, async ({ connect, sim }) => {
        const esme = await connect();
        const resp = await esme.bind(bindType);
        assert.equal(resp.command, `bind_${bindType}_resp`);
        assert.equal(resp.command_status, smpp.ESME_ROK);
        assert.equal(resp.system_id, 'SMSCSIM');
        assert.equal(resp.sc_interface_version, 0x34);
        assert.deepEqual(
          sim.binds().map((b) => [b.systemId, b.bindType]),
          [[SYSTEM_ID, bindType]],
        );
      }),
    );
  }

  void it(
    'rejects a wrong password with ESME_RINVPASWD and an unknown system_id with ESME_RBINDFAIL',
    T,
    () =>
      withSimulator({}, async ({ connect, sim }) => {
        const esme = await connect();
        const badPassword = await esme.bind('transceiver', { systemId: SYSTEM_ID, password: 'nope' });
        assert.equal(badPassword.command_status, smpp.ESME_RINVPASWD);
        const badSystem = await esme.bind('transmitter', { systemId: 'stranger', password: PASSWORD });
        assert.equal(badSystem.command_status, smpp.ESME_RBINDFAIL);
        assert.equal(sim.binds().length, 0);
        assert.equal(sim.stats().binds.failed, 2);
        // A failed bind leaves the connection usable for another attempt, as most SMSCs do.
        const good = await esme.bind('transceiver');
        assert.equal(good.command_status, smpp.ESME_ROK);
      }),
  );

  void it('accepts any credentials when none are configured', T, () =>
    withSimulator({ credentials: [] }, async ({ connect }) => {
      const esme = await connect();
      const resp = await esme.bind('transceiver', { systemId: 'whoever', password: 'x' });
      assert.equal(resp.command_status, smpp.ESME_ROK);
    }),
  );

  void it('answers a second bind on the same connection with ESME_RALYBND', T, () =>
    withSimulator({}, async ({ bound }) => {
      const esme = await bound('transceiver');
      const again = await esme.bind('transceiver');
      assert.equal(again.command_status, smpp.ESME_RALYBND);
    }),
  );

  void it('refuses submit_sm before bind and on a receiver bind with ESME_RINVBNDSTS', T, () =>
    withSimulator({}, async ({ connect, bound, sim }) => {
      const unbound = await connect();
      const early = await unbound.submit({
        destination_addr: '447700900001',
        short_message: Buffer.from('x'),
      });
      assert.equal(early.command_status, smpp.ESME_RINVBNDSTS);
      const receiver = await bound('receiver');
      const onReceiver = await receiver.submit({
        destination_addr: '447700900001',
        short_message: Buffer.from('x'),
      });
      assert.equal(onReceiver.command_status, smpp.ESME_RINVBNDSTS);
      assert.equal(sim.submits().length, 0);
    }),
  );

  void it('answers enquire_link, bound or not', T, () =>
    withSimulator({}, async ({ connect, bound }) => {
      const unbound = await connect();
      assert.equal((await unbound.request('enquire_link')).command, 'enquire_link_resp');
      const esme = await bound();
      const resp = await esme.request('enquire_link');
      assert.equal(resp.command, 'enquire_link_resp');
      assert.equal(resp.command_status, smpp.ESME_ROK);
    }),
  );

  void it('answers unbind, closes the socket and reports bind/unbind events', T, async () => {
    const events: SimulatorEvent[] = [];
    await withSimulator({ onEvent: (e) => events.push(e) }, async ({ bound, sim }) => {
      const esme = await bound('transmitter');
      const resp = await esme.request('unbind');
      assert.equal(resp.command, 'unbind_resp');
      assert.equal(resp.command_status, smpp.ESME_ROK);
      await esme.waitClosed();
      assert.equal(sim.binds().length, 0);
    });
    const kinds = events.filter((e) => e.type === 'bind' || e.type === 'unbind');
    assert.deepEqual(
      kinds.map((e) => (e.type === 'unbind' ? `unbind:${e.reason}` : `${e.type}:${e.bindType}`)),
      ['bind:transmitter', 'unbind:unbind'],
    );
  });

  void it('answers an unsupported command with generic_nack ESME_RINVCMDID', T, () =>
    withSimulator({}, async ({ bound }) => {
      const esme = await bound();
      const resp = await esme.request('query_sm', { message_id: 'abc', source_addr: 'ACME' });
      assert.equal(resp.command, 'generic_nack');
      assert.equal(resp.command_status, smpp.ESME_RINVCMDID);
    }),
  );

  void it('closes a connection that sends an impossible command_length', T, () =>
    withSimulator({}, async ({ sim }) => {
      const socket = net.connect(sim.port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => undefined);
      const garbage = Buffer.alloc(16);
      garbage.writeUInt32BE(5, 0);
      socket.write(garbage);
      await withTimeout(closed, 2000, 'server to close');
      const reply = Buffer.concat(received);
      assert.equal(reply.readUInt32BE(4), 0x80000000, 'generic_nack');
      assert.equal(reply.readUInt32BE(8), smpp.ESME_RINVCMDLEN);
    }),
  );

  void it('unbinds bound ESMEs when it stops', T, async () => {
    const events: SimulatorEvent[] = [];
    let esme: TestEsme | null = null;
    await withSimulator({ onEvent: (e) => events.push(e) }, async ({ sim }) => {
      esme = await TestEsme.bound(sim.port);
      esme.session.on('unbind', (pdu) => esme?.session.send(pdu.response()));
    });
    const client = esme as TestEsme | null;
    assert.ok(client);
    await client.waitClosed();
    assert.ok(events.some((e) => e.type === 'unbind' && e.reason === 'stopped'));
  });
});
