import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import smpp from 'smpp';
import { magicNumber, type SimulatorStats, type SubmitRecord } from './simulator.js';
import { withSimulator } from './test-client.js';

const T = { timeout: 5000 };

interface JsonResponse<B> {
  status: number;
  body: B;
}

async function call<B = unknown>(
  port: number | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonResponse<B>> {
  assert.ok(port !== null, 'HTTP API is listening');
  const init: RequestInit = { method, signal: AbortSignal.timeout(2000) };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as B };
}

void describe('HTTP control API', () => {
  void it('GET /health', T, () =>
    withSimulator({ httpPort: 0 }, async ({ sim, bound }) => {
      await bound();
      const res = await call<{ status: string; smppPort: number; binds: number }>(
        sim.httpPort,
        'GET',
        '/health',
      );
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok', smppPort: sim.port, binds: 1 });
    }),
  );

  void it('GET /submits (filtered by destination), DELETE /submits', T, () =>
    withSimulator({ httpPort: 0 }, async ({ sim, bound }) => {
      const esme = await bound();
      await esme.submit({ destination_addr: magicNumber('DELIVERED'), short_message: Buffer.from('one') });
      await esme.submit({ destination_addr: magicNumber('EXPIRED'), short_message: Buffer.from('two') });
      await esme.submit({ destination_addr: magicNumber('EXPIRED'), short_message: Buffer.from('three') });

      const all = await call<{ count: number; submits: SubmitRecord[] }>(sim.httpPort, 'GET', '/submits');
      assert.equal(all.status, 200);
      assert.equal(all.body.count, 3);
      assert.equal(all.body.submits[0]?.shortMessage, Buffer.from('one').toString('hex'));

      const expired = await call<{ count: number; submits: SubmitRecord[] }>(
        sim.httpPort,
        'GET',
        `/submits?destination=${magicNumber('EXPIRED')}&limit=1&offset=1`,
      );
      assert.equal(expired.body.count, 2);
      assert.deepEqual(
        expired.body.submits.map((s) => s.text),
        ['three'],
      );

      assert.deepEqual((await call(sim.httpPort, 'DELETE', '/submits')).body, { cleared: 3 });
      assert.equal((await call<{ count: number }>(sim.httpPort, 'GET', '/submits')).body.count, 0);
    }),
  );

  void it(
    'GET /stats counts binds, submits, receipts and duplicate submits; GET /duplicates lists them',
    T,
    () =>
      withSimulator({ httpPort: 0 }, async ({ sim, bound }) => {
        const esme = await bound();
        const same = {
          destination_addr: '447700900777',
          short_message: Buffer.from('same body'),
          registered_delivery: 1,
        };
        await esme.submit(same);
        await esme.submit(same); // a gateway retry that the carrier accepted twice
        await esme.submit({
          destination_addr: magicNumber('THROTTLED'),
          short_message: Buffer.from('same body'),
        });
        await esme.deliveries(2);
        await esme.waitFor(() => sim.stats().receipts.acked === 2, 1000, 'receipt acks');

        const stats = (await call<SimulatorStats>(sim.httpPort, 'GET', '/stats')).body;
        assert.equal(stats.binds.active, 1);
        assert.equal(stats.binds.transceiver, 1);
        assert.equal(stats.submits.received, 3);
        assert.equal(stats.submits.accepted, 2);
        assert.equal(stats.submits.rejected, 1);
        assert.deepEqual(stats.submits.byStatus, { ESME_ROK: 2, ESME_RTHROTTLED: 1 });
        assert.equal(stats.duplicates, 1);
        assert.equal(stats.receipts.sent, 2);
        assert.equal(stats.receipts.acked, 2);

        const dups = await call<{ count: number; groups: Array<{ destinationAddr: string; count: number }> }>(
          sim.httpPort,
          'GET',
          '/duplicates',
        );
        assert.equal(dups.body.count, 1);
        assert.equal(dups.body.groups[0]?.destinationAddr, '447700900777');
        assert.equal(dups.body.groups[0]?.count, 2);
      }),
  );

  void it('PATCH /knobs applies valid knobs and rejects invalid ones with 400', T, () =>
    withSimulator({ httpPort: 0 }, async ({ sim, bound }) => {
      const ok = await call<{ transientErrorRate: number; latencyMs: number }>(
        sim.httpPort,
        'PATCH',
        '/knobs',
        {
          transientErrorRate: 1,
        },
      );
      assert.equal(ok.status, 200);
      assert.equal(ok.body.transientErrorRate, 1);
      const esme = await bound();
      assert.equal(
        (await esme.submit({ destination_addr: '447700900123', short_message: Buffer.from('x') }))
          .command_status,
        smpp.ESME_RSYSERR,
      );

      const bad = await call<{ error: string }>(sim.httpPort, 'PATCH', '/knobs', { dropResponseRate: 7 });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /dropResponseRate/);
      assert.equal((await call(sim.httpPort, 'PATCH', '/knobs', '{not json')).status, 400);
      assert.equal((await call(sim.httpPort, 'PATCH', '/knobs', { unknownKnob: 1 })).status, 400);
      assert.equal(
        (await call<{ transientErrorRate: number }>(sim.httpPort, 'GET', '/knobs')).body.transientErrorRate,
        1,
      );
    }),
  );

  void it('POST /mo injects a mobile-originated message', T, () =>
    withSimulator({ httpPort: 0 }, async ({ sim, bound }) => {
      const esme = await bound('receiver');
      const res = await call(sim.httpPort, 'POST', '/mo', { from: '447700900555', to: '12345', text: 'YES' });
      assert.equal(res.status, 202);
      assert.deepEqual(res.body, { parts: 1, sent: 1, queued: 0 });
      const [mo] = await esme.deliveries(1);
      assert.equal(mo?.short_message?.message, 'YES');
      assert.equal((await call(sim.httpPort, 'POST', '/mo', { from: '', text: 1 })).status, 400);
    }),
  );

  void it('answers 404 for unknown paths and 405 for wrong methods', T, () =>
    withSimulator({ httpPort: 0 }, async ({ sim }) => {
      assert.equal((await call(sim.httpPort, 'GET', '/nope')).status, 404);
      assert.equal((await call(sim.httpPort, 'POST', '/stats')).status, 405);
    }),
  );
});
