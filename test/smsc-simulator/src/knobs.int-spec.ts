import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import smpp, { type PDU } from 'smpp';
import { KnobError } from './knobs.js';
import { magicNumber } from './simulator.js';
import { messageText, sleep, TestEsme, withSimulator } from './test-client.js';

const T = { timeout: 5000 };
const NORMAL = '447700900123';
const body = (i: number): { destination_addr: string; short_message: Buffer } => ({
  destination_addr: NORMAL,
  short_message: Buffer.from(`message ${i}`),
});

void describe('knobs', () => {
  void it('latencyMs delays every submit_sm_resp', T, () =>
    withSimulator({ latencyMs: 150 }, async ({ bound, sim }) => {
      const esme = await bound();
      const started = performance.now();
      const resp = await esme.submit(body(1));
      const elapsed = performance.now() - started;
      assert.equal(resp.command_status, smpp.ESME_ROK);
      assert.ok(elapsed >= 140, `answered after ${elapsed.toFixed(1)} ms`);
      const [record] = sim.submits();
      assert.ok(record?.respondedAt !== null && record !== undefined);
      assert.ok((record.respondedAt ?? 0) - record.receivedAt >= 140);

      sim.setKnobs({ latencyMs: 0 });
      await esme.submit(body(2));
      // The simulator's own hold (a busy test process must not fail this).
      const fast = sim.submits()[1]!;
      assert.ok((fast.respondedAt ?? Infinity) - fast.receivedAt < 50, `held ${(fast.respondedAt ?? Infinity) - fast.receivedAt} ms`);
    }),
  );

  void it('throttleAboveMps answers ESME_RTHROTTLED above the per-bind rate', T, () =>
    withSimulator({ throttleAboveMps: 5 }, async ({ bound }) => {
      const esme = await bound();
      const statuses = (await Promise.all(Array.from({ length: 8 }, (_, i) => esme.submit(body(i))))).map(
        (r) => r.command_status,
      );
      assert.deepEqual(statuses, [
        0,
        0,
        0,
        0,
        0,
        smpp.ESME_RTHROTTLED,
        smpp.ESME_RTHROTTLED,
        smpp.ESME_RTHROTTLED,
      ]);
      // The limit is per bind: a second bind has its own budget.
      const other = await bound();
      assert.equal((await other.submit(body(9))).command_status, smpp.ESME_ROK);
    }),
  );

  void it('throttle window slides: the budget comes back after a second', { timeout: 5000 }, () =>
    withSimulator({ throttleAboveMps: 2 }, async ({ bound }) => {
      const esme = await bound();
      await esme.submit(body(1));
      await esme.submit(body(2));
      assert.equal((await esme.submit(body(3))).command_status, smpp.ESME_RTHROTTLED);
      await sleep(1050);
      assert.equal((await esme.submit(body(4))).command_status, smpp.ESME_ROK);
    }),
  );

  void it('windowLimit answers ESME_RMSGQFUL when too many submits are outstanding', T, () =>
    withSimulator({ latencyMs: 600, windowLimit: 3 }, async ({ bound, sim }) => {
      const esme = await bound();
      const started = performance.now();
      const timed = (i: number): Promise<{ status: number; ms: number }> =>
        esme
          .submit(body(i))
          .then((r: PDU) => ({ status: r.command_status, ms: performance.now() - started }));
      const results = await Promise.all([1, 2, 3, 4, 5].map(timed));
      assert.deepEqual(
        results.map((r) => r.status),
        [0, 0, 0, smpp.ESME_RMSGQFUL, smpp.ESME_RMSGQFUL],
      );
      // Refused at the door: the queue-full answers do not wait for the latency.
      for (const r of results.slice(3)) assert.ok(r.ms < 300, `RMSGQFUL after ${r.ms.toFixed(1)} ms`);
      for (const r of results.slice(0, 3)) assert.ok(r.ms >= 590);
      assert.equal(sim.stats().submits.byStatus.ESME_RMSGQFUL, 2);
      // Once the window drains the bind accepts again.
      assert.equal((await esme.submit(body(6))).command_status, smpp.ESME_ROK);
    }),
  );

  void it('disconnectAfterSubmits closes the connection after the N-th answered submit', T, () =>
    withSimulator({ disconnectAfterSubmits: 3 }, async ({ sim }) => {
      const esme = await TestEsme.bound(sim.port);
      // Pipelined, as a windowed client would: submits after the 3rd die with the connection.
      const outcomes = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          esme.submit(body(i), 500).then(
            (r) => r.command_status,
            () => 'no response' as const,
          ),
        ),
      );
      assert.deepEqual(outcomes, [0, 0, 0, 'no response', 'no response']);
      await esme.waitClosed();
      assert.equal(sim.submits().length, 3, 'submits after the limit are not processed');

      // A reconnect gets a fresh budget.
      const again = await TestEsme.bound(sim.port);
      assert.equal((await again.submit(body(6))).command_status, smpp.ESME_ROK);
      again.destroy();
    }),
  );

  void it('transientErrorRate=1 answers ESME_RSYSERR, dropResponseRate=1 swallows', T, () =>
    withSimulator({ transientErrorRate: 1 }, async ({ bound, sim }) => {
      const esme = await bound();
      assert.equal((await esme.submit(body(1))).command_status, smpp.ESME_RSYSERR);
      sim.setKnobs({ transientErrorRate: 0, dropResponseRate: 1 });
      assert.equal(await esme.submitExpectingSilence(body(2), 200), null);
      sim.setKnobs({ dropResponseRate: 0 });
      assert.equal((await esme.submit(body(3))).command_status, smpp.ESME_ROK);
      assert.deepEqual(
        sim.submits().map((r) => r.responseState),
        ['sent', 'dropped', 'sent'],
      );
    }),
  );

  void it('outcomeMix sets the final state of non-magic numbers; magic suffixes still win', T, () =>
    withSimulator({ outcomeMix: { expired: 1 } }, async ({ bound }) => {
      const esme = await bound();
      await esme.submit({ ...body(1), registered_delivery: 1 });
      await esme.submit({
        destination_addr: magicNumber('DELIVERED'),
        short_message: Buffer.from('x'),
        registered_delivery: 1,
      });
      const receipts = await esme.deliveries(2);
      const byDestination = new Map(
        receipts.map((r) => [r.source_addr, /stat:(\w+)/.exec(messageText(r))?.[1]]),
      );
      assert.equal(byDestination.get(NORMAL), 'EXPIRED');
      assert.equal(byDestination.get(magicNumber('DELIVERED')), 'DELIVRD');
    }),
  );

  void it('a seed makes the random knobs reproducible', T, async () => {
    const run = async (): Promise<Array<string | null>> => {
      let outcomes: Array<string | null> = [];
      await withSimulator(
        { seed: 42, outcomeMix: { delivered: 1, undeliverable: 1 } },
        async ({ bound, sim }) => {
          const esme = await bound();
          for (let i = 0; i < 20; i++) await esme.submit(body(i));
          outcomes = sim.submits().map((r) => r.outcome);
        },
      );
      return outcomes;
    };
    const first = await run();
    assert.deepEqual(await run(), first);
    assert.ok(first.includes('delivered') && first.includes('undeliverable'));
  });

  void it('receiptDelayMs sets when the receipt is sent', T, () =>
    withSimulator({ receiptDelayMs: 300 }, async ({ bound }) => {
      const esme = await bound();
      const started = performance.now();
      await esme.submit({ ...body(1), registered_delivery: 1 });
      await esme.deliveries(1);
      assert.ok(performance.now() - started >= 290);
    }),
  );

  void it('setKnobs validates and leaves knobs unchanged on error', T, () =>
    withSimulator({}, async ({ sim }) => {
      const before = sim.knobs();
      assert.throws(() => sim.setKnobs({ transientErrorRate: 2 }), KnobError);
      assert.throws(() => sim.setKnobs({ latencyMs: -1 }), KnobError);
      assert.throws(() => sim.setKnobs({ outcomeMix: { delivered: 0 } }), KnobError);
      assert.throws(() => sim.setKnobs({ nope: 1 } as never), KnobError);
      assert.deepEqual(sim.knobs(), before);
      assert.deepEqual(sim.setKnobs({ windowLimit: 10 }).windowLimit, 10);
      assert.deepEqual(sim.setKnobs({ windowLimit: null }).windowLimit, null);
    }),
  );
});

void describe('latencyMs timing', () => {
  void it('holds every submit at least latencyMs from its arrival; answers and receipts due together leave in one write', T, () =>
    withSimulator({ latencyMs: 50, receiptDelayMs: 30 }, async ({ bound, sim }) => {
      const esme = await bound();
      // Writes the simulator's side of the connection hands to the kernel (a write or a writev is one syscall).
      let writes = 0;
      const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (this: net.Socket, ...args: unknown[]) => void>;
      const original = { _write: proto._write, _writev: proto._writev };
      for (const key of ['_write', '_writev'] as const) {
        proto[key] = function (this: net.Socket, ...args: unknown[]) {
          if (this.localPort === sim.port) writes++;
          original[key].apply(this, args);
        };
      }
      try {
        // One TCP write of 50 submits: they arrive together, so they fall due together.
        const socket = esme.session.socket;
        socket.cork();
        const answers = Promise.all(Array.from({ length: 50 }, (_, i) => esme.submit({ ...body(i), registered_delivery: 1 })));
        socket.uncork();
        const responses = await answers;
        assert.ok(responses.every((r) => r.command_status === smpp.ESME_ROK));
        const responseWrites = writes;
        // A timer and a write per submit was 50 syscalls (and as many reads on the ESME's side).
        assert.ok(responseWrites <= 3, `${responseWrites} writes for 50 responses`);
        // The receipts, answered together, fall due together too.
        await esme.deliveries(50);
        assert.ok(writes - responseWrites <= 3, `${writes - responseWrites} writes for 50 receipts`);
      } finally {
        Object.assign(proto, original);
      }
      for (const record of sim.submits()) {
        assert.ok(record.respondedAt !== null);
        assert.ok(record.respondedAt - record.receivedAt >= 50, `held ${(record.respondedAt - record.receivedAt).toFixed(2)} ms`);
      }
    }),
  );
});
