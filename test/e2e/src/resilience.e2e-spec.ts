import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusChangedV1, type StatusChangedPayload } from '@sms/contracts';
import { TopicProbe, ensureTestTopics, eventually, testKafka } from '@sms/testing';
import { HttpRecorder, startE2eStack, type E2eStack } from './harness.js';

/** Nothing accepted is lost, and nothing is sent twice, when services restart while messages flow. */
describe('restarts', () => {
  let stack: E2eStack;
  let hooks: HttpRecorder;
  let statuses: TopicProbe<StatusChangedPayload>;

  before(async () => {
    hooks = await new HttpRecorder().start();
    const kafka = testKafka('e2e-resilience');
    await ensureTestTopics(kafka);
    statuses = await new TopicProbe(kafka, StatusChangedV1).start();
    stack = await startE2eStack();
  });

  after(async () => {
    await stack?.gateway.stop();
    await statuses?.stop();
    await hooks?.stop();
  });

  test('every message accepted around restarts of router, dlr-processor and notifier is delivered and webhooked once', async () => {
    const ids: string[] = [];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        // Unique bodies so the simulator's duplicate check compares like with like.
        const r = await stack.api('/v1/messages', {
          method: 'POST',
          json: { to: `+4479110${String(10100 + ids.length)}`, from: 'ACME', body: `restart test ${ids.length}`, callbackUrl: hooks.url('/r') },
        });
        assert.equal(r.status, 202);
        ids.push(((await r.json()) as { id: string }).id);
      }
    };
    await send(10);
    const restarts = Promise.all([stack.gateway.restart('router'), stack.gateway.restart('dlr-processor')]);
    await send(10);
    await restarts;
    await stack.gateway.restart('notifier');
    await send(10);

    await eventually(
      () => {
        const delivered = new Set(statuses.events.filter((e) => e.payload.status === 'delivered').map((e) => e.messageId));
        return ids.every((id) => delivered.has(id)) ? true : undefined;
      },
      60000,
      'all 30 messages delivered',
    );
    await eventually(() => {
      const hooked = new Set(hooks.requests.map((r) => (JSON.parse(r.body) as { data: { messageId: string } }).data.messageId));
      return ids.every((id) => hooked.has(id)) ? true : undefined;
    }, 30000, 'a webhook for each message');

    const webhookIds = hooks.requests.map((r) => String(r.headers['webhook-id']));
    const perMessage = new Map<string, number>();
    for (const r of hooks.requests) {
      const id = (JSON.parse(r.body) as { data: { messageId: string } }).data.messageId;
      perMessage.set(id, (perMessage.get(id) ?? 0) + 1);
    }
    // A webhook may be retried (same webhook-id) but a message never gets two different final events.
    assert.equal(new Set(webhookIds).size, ids.length);
    const duplicates = (await (await fetch(`${stack.gateway.simulatorUrl}/duplicates`)).json()) as { count: number };
    assert.equal(duplicates.count, 0, 'the carrier saw no duplicate submit');
    const submits = (await (await fetch(`${stack.gateway.simulatorUrl}/submits?limit=1000`)).json()) as { count: number };
    assert.equal(submits.count, ids.length);
  });

  test('every service exposes liveness, readiness and Prometheus metrics', async () => {
    for (const proc of stack.gateway.processes.filter((p) => p.name !== 'smsc-simulator')) {
      const port = stack.ports[proc.name as keyof typeof stack.ports];
      const live = await fetch(`http://127.0.0.1:${port}/health/live`);
      assert.equal(live.status, 200, `${proc.name} live`);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as { ready: boolean; checks: { name: string }[] };
      assert.equal(ready.ready, true, `${proc.name} ready`);
      assert.ok(ready.checks.some((c) => c.name === 'postgres') && ready.checks.some((c) => c.name === 'kafka'), `${proc.name} checks its dependencies`);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, new RegExp(`process_resident_memory_bytes\\{service="${proc.name}"\\}`), `${proc.name} metrics`);
    }
  });
});
