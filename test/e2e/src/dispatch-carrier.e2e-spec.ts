import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dispatchFailedTopicByLane,
  SubmittedV1,
  dispatchTopicByLane,
  type DispatchFailedPayload,
  type DispatchPayload,
  type SubmittedPayload,
  type TrafficClass,
} from '@sms/contracts';
import type { EventPublisher } from '@sms/kafka';
import { freePort } from '@sms/local-stack';
import { startGateway, type RunningGateway } from '@sms/local-stack/gateway';
import { reassemble, type SubmitRecord } from '@sms/smsc-simulator';
import { TopicProbe, connectedPublisher, createTestDatabase, ensureTestTopics, eventually, requireEnv, testKafka, uniqueSuffix } from '@sms/testing';

/**
 * carrier-dispatch alone against the SMPP simulator, driven through its Kafka contracts (dispatch events in,
 * submitted / dispatch-failed out): retries on the same carrier, long Unicode messages, crash safety.
 */
describe('carrier-dispatch', () => {
  let gateway: RunningGateway;
  let dropDatabase: () => Promise<void>;
  let publisher: EventPublisher;
  let submitted: TopicProbe<SubmittedPayload>;
  let failed: TopicProbe<DispatchFailedPayload>;
  /** Only the OTP lane's dispatch-failed topic: each lane's failures go to their own topic. */
  let otpFailed: TopicProbe<DispatchFailedPayload>;

  const sim = async <T>(path: string, json?: unknown): Promise<T> => {
    const r = await fetch(`${gateway.simulatorUrl}${path}`, {
      method: json === undefined ? 'GET' : 'PATCH',
      headers: json === undefined ? undefined : { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    assert.ok(r.ok, `${path}: ${r.status}`);
    return (await r.json()) as T;
  };
  const submitsTo = async (to: string) => (await sim<{ submits: SubmitRecord[] }>(`/submits?destination=${to.slice(1)}`)).submits;

  /** A destination no other test (or earlier run on the shared broker) uses; the last four digits pick the outcome. */
  const used = new Set<string>();
  const number = (suffix: string): string => {
    for (;;) {
      const n = `+4474${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}${suffix}`;
      if (!used.has(n)) {
        used.add(n);
        return n;
      }
    }
  };

  const payloadFor = (to: string, body: string, lane: TrafficClass): DispatchPayload => {
    const now = new Date();
    return {
      to,
      from: 'ACME',
      body,
      trafficClass: lane,
      encoding: /^[\x20-\x7e]*$/.test(body) ? 'GSM-7' : 'UCS-2',
      segments: 1,
      validUntil: new Date(now.getTime() + 3600_000).toISOString(),
      acceptedAt: now.toISOString(),
      sandbox: false,
      carrierId: 'simulator',
      routeId: 'default',
      attempt: 1,
      routedAt: now.toISOString(),
    };
  };
  const dispatch = async (to: string, body: string, lane: TrafficClass = 'transactional'): Promise<string> => {
    const messageId = randomUUID();
    await publisher.publish(dispatchTopicByLane[lane], [{ tenantId: 'e2e', messageId, payload: payloadFor(to, body, lane) }]);
    return messageId;
  };

  before(async () => {
    const kafka = testKafka('e2e-dispatch');
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
    submitted = await new TopicProbe(kafka, SubmittedV1).start();
    failed = await new TopicProbe(kafka, Object.values(dispatchFailedTopicByLane)).start();
    otpFailed = await new TopicProbe(kafka, dispatchFailedTopicByLane.otp).start();
    const database = await createTestDatabase('e2e_dispatch');
    dropDatabase = database.drop;
    const dir = mkdtempSync(join(tmpdir(), 'sms-e2e-dispatch-'));
    const ports = {
      ingest: await freePort(),
      router: await freePort(),
      'carrier-dispatch': await freePort(),
      'dlr-processor': await freePort(),
      notifier: await freePort(),
      smpp: await freePort(),
      simulatorHttp: await freePort(),
    };
    gateway = await startGateway({
      kafkaBrokers: requireEnv('KAFKA_BROKERS'),
      databaseUrl: database.url,
      ports,
      logDir: join(dir, 'logs'),
      gatewayConfigFile: join(dir, 'gateway.yaml'),
      demo: { tenantId: 'e2e', apiKey: 'unused', webhookSecret: 'unused' },
      mode: 'test',
      groupPrefix: `e2e-dispatch-${uniqueSuffix()}`,
      receiptDelayMs: 100,
      startAtTopicEnd: true,
      only: ['carrier-dispatch'],
      env: { LOG_LEVEL: 'warn', RETRY_MAX: '4', RETRY_BASE_DELAY_MS: '200', RETRY_MAX_DELAY_MS: '800', RETRY_POLL_MS: '50' },
      log: (line) => process.stderr.write(`# ${line}\n`),
    });
  });

  after(async () => {
    await gateway?.stop();
    await dropDatabase?.().catch(() => undefined);
    await submitted?.stop();
    await failed?.stop();
    await otpFailed?.stop();
    await publisher?.disconnect();
  });

  test('a transient carrier error is retried on the same carrier with backoff, then submitted', async () => {
    await sim('/knobs', { transientErrorRate: 1 });
    const to = number('1234');
    let id: string;
    try {
      id = await dispatch(to, 'retry me');
      // Two refused submits (ESME_RSYSERR) prove the retry; then the carrier recovers.
      await eventually(async () => ((await submitsTo(to)).length >= 2 ? true : undefined), 20000, 'a retried submit');
    } finally {
      await sim('/knobs', { transientErrorRate: 0 });
    }
    await submitted.waitFor((e) => e.messageId === id, 20000, 'submitted');
    assert.equal(failed.events.filter((e) => e.messageId === id).length, 0, 'never handed to the router');
    const records = await submitsTo(to);
    assert.ok(records.length >= 2, `${records.length} submits`);
    assert.ok(records.slice(0, -1).every((r) => r.commandStatusName === 'ESME_RSYSERR'));
    assert.equal(records.at(-1)!.commandStatus, 0);
    // Backoff, not a tight loop: attempts are at least half the first step (100 ms) apart.
    for (let i = 1; i < records.length; i++) assert.ok(records[i]!.receivedAt - records[i - 1]!.receivedAt >= 90);
  });

  test('a carrier that keeps throttling gets RETRY_MAX retries, then the message is handed to the router for failover', async () => {
    const to = number('0006');
    const id = await dispatch(to, 'always throttled');
    const event = await failed.waitFor((e) => e.messageId === id, 30000, 'dispatch-failed');
    assert.equal(event.payload.disposition, 'failover');
    assert.equal(event.payload.reason.code, 'carrier_throttled');
    assert.equal(event.payload.reason.carrierCode, 'ESME_RTHROTTLED');
    const records = await submitsTo(to);
    assert.equal(records.length, 5, 'first attempt + 4 retries');
    assert.ok(records.every((r) => r.commandStatusName === 'ESME_RTHROTTLED'));
  });

  test('a permanent error is not retried, and an OTP failure goes to the OTP lane\'s dispatch-failed topic', async () => {
    const to = number('0003');
    const id = await dispatch(to, 'bad number', 'otp');
    const event = await otpFailed.waitFor((e) => e.messageId === id, 20000, 'dispatch-failed on the OTP lane');
    assert.equal(event.payload.disposition, 'permanent');
    assert.equal(event.payload.reason.code, 'invalid_destination');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await submitsTo(to)).length, 1);
  });

  test('a 3-part UCS-2 message arrives as 3 submits with one UDH reference, and each part keeps its carrier id', async () => {
    const to = number('4321');
    // 70 UCS-2 characters fit one part; 67 per part when concatenated: 150 characters need 3 parts.
    const body = 'Привет, мир! Ваш код подтверждения: 4711. ☺ '.repeat(4).slice(0, 150);
    const id = await dispatch(to, body);
    const event = await submitted.waitFor((e) => e.messageId === id, 20000, 'submitted');
    const records = (await submitsTo(to)).filter((r) => r.commandStatus === 0);
    assert.equal(records.length, 3);
    assert.ok(records.every((r) => r.dataCoding === 8 && r.udh !== null && r.concat?.scheme === 'udh8'));
    assert.equal(new Set(records.map((r) => r.concat!.ref)).size, 1);
    // TON/NPI: alphanumeric sender 5/0; destination from the carrier config (defaults 1/1, international/ISDN).
    assert.ok(records.every((r) => r.sourceAddrTon === 5 && r.sourceAddrNpi === 0 && r.destAddrTon === 1 && r.destAddrNpi === 1));
    assert.deepEqual(records.map((r) => r.concat!.seq).sort(), [1, 2, 3]);
    const [message] = reassemble(records);
    assert.equal(message!.complete, true);
    assert.equal(message!.text, body);
    assert.equal(event.payload.totalParts, 3);
    // carrier-dispatch normalises carrier ids (case, leading zeros) so receipts match whatever form they use.
    const normalise = (id: string) => id.toLowerCase().replace(/^0+(?=.)/, '');
    const bySeq = new Map(records.map((r) => [r.concat!.seq, normalise(r.messageId!)]));
    assert.deepEqual(
      event.payload.parts.map((p) => [p.index, p.carrierMessageId]),
      [0, 1, 2].map((i) => [i, bySeq.get(i + 1)]),
    );
  });

  test('SIGKILL of carrier-dispatch while messages flow: nothing the carrier accepted is submitted again', async () => {
    // 1 s per response and a window of 50: each lane's bind does ~50 submits/s, so the kill lands with
    // submits in flight and dispatch batches half recorded.
    // OTP resends a part that was in flight at the crash (policy); promotional never does.
    await sim('/knobs', { latencyMs: 1000 });
    // One publish per lane: 300 publishes one after another took long enough on a loaded machine for most of
    // the load to have reached the carrier before the kill (the test asserts it landed mid-flow).
    const sent: { id: string; lane: 'otp' | 'promotional'; to: string }[] = [];
    for (let i = 0; i < 300; i++) {
      const lane = i % 2 ? 'otp' : 'promotional';
      const to = number(lane === 'otp' ? '5551' : '5552');
      sent.push({ id: randomUUID(), lane, to });
    }
    for (const lane of ['otp', 'promotional'] as const) {
      const drafts = sent
        .map((m, i) => ({ ...m, i }))
        .filter((m) => m.lane === lane)
        .map((m) => ({ tenantId: 'e2e', messageId: m.id, payload: payloadFor(m.to, `kill test ${m.i}`, lane) }));
      await publisher.publish(dispatchTopicByLane[lane], drafts);
    }
    for (const m of sent) m.to = m.to.slice(1);
    // Kill once part of the load has reached the carrier.
    const atKill = await eventually(
      async () => {
        const { count } = await sim<{ count: number }>('/submits?limit=0');
        return count >= 30 ? count : undefined;
      },
      30000,
      '30 submits',
    );
    const dispatcher = gateway.processes.find((p) => p.name === 'carrier-dispatch')!;
    const exited = new Promise((resolve) => dispatcher.child.once('exit', resolve));
    dispatcher.child.kill('SIGKILL');
    await exited;
    assert.ok(atKill < 300, 'the kill landed while messages were flowing');
    await gateway.restart('carrier-dispatch');
    await sim('/knobs', { latencyMs: 0 });

    const outcome = new Map<string, string>();
    await eventually(
      () => {
        for (const e of submitted.events) outcome.set(e.messageId!, 'submitted');
        for (const e of failed.events) if (!outcome.has(e.messageId!)) outcome.set(e.messageId!, e.payload.reason.code);
        return sent.every((m) => outcome.has(m.id)) ? true : undefined;
      },
      60000,
      'an outcome for all 300 messages',
    );
    for (const m of sent) {
      const o = outcome.get(m.id)!;
      if (m.lane === 'otp') assert.equal(o, 'submitted', `otp ${m.id}`);
      else assert.ok(o === 'submitted' || o === 'submit_outcome_unknown', `promotional ${m.id}: ${o}`);
    }
    const duplicates = await sim<{ groups: { destinationAddr: string; count: number }[] }>('/duplicates');
    const promotional = new Set(sent.filter((m) => m.lane === 'promotional').map((m) => m.to));
    const otp = new Set(sent.filter((m) => m.lane === 'otp').map((m) => m.to));
    assert.deepEqual(duplicates.groups.filter((g) => promotional.has(g.destinationAddr)), []);
    // OTP may repeat a part whose outcome was not yet in the ledger at the kill (policy), each at most once.
    const otpRepeats = duplicates.groups.filter((g) => otp.has(g.destinationAddr)).reduce((n, g) => n + g.count - 1, 0);
    assert.ok(duplicates.groups.filter((g) => otp.has(g.destinationAddr)).every((g) => g.count === 2));
    process.stderr.write(`# kill test: ${otpRepeats} OTP parts resent by policy, ${[...outcome.values()].filter((o) => o === 'submit_outcome_unknown').length} promotional submit_outcome_unknown\n`);
  });

  // Last: the first replica leaves for good.
  test('a replica joins and the first one leaves while messages flow (rolling deploy): every message is submitted exactly once', async () => {
    // Transactional parts found in flight are resent by the crash policy, so a replica that handed a partition
    // over (rebalance) while its parts were still being submitted would show here as texts received twice.
    // 50 ms per answer and one transactional bind of window 50: ~1,000 submits/s a replica, so the load lasts
    // past the second replica's start-up and both rebalances land with parts in flight.
    const total = 20000;
    await sim('/knobs', { latencyMs: 50 });
    const marker = `replicas-${uniqueSuffix()}`;
    const submitsSoFar = async () => (await sim<{ count: number }>('/submits?limit=0')).count;
    // Before publishing: the first replica starts submitting while the rest is still being published.
    const before = await submitsSoFar();
    const ids: string[] = [];
    for (let i = 0; i < total; i += 1000) {
      const drafts = Array.from({ length: 1000 }, (_, k) => {
        const messageId = randomUUID();
        ids.push(messageId);
        // Own prefix (4475) and last four digits 1234: no magic-number behaviour, no other test's numbers.
        return { tenantId: 'e2e', messageId, payload: payloadFor(`+4475${String(i + k).padStart(5, '0')}1234`, `${marker} ${i + k}`, 'transactional') };
      });
      await publisher.publish(dispatchTopicByLane.transactional, drafts);
    }
    const mine = (r: SubmitRecord) => r.destinationAddr.startsWith('4475') && r.destinationAddr.endsWith('1234');

    await eventually(async () => ((await submitsSoFar()) >= before + 1000 ? true : undefined), 60000, '1,000 submits');
    const second = await gateway.startReplica('carrier-dispatch', await freePort());
    const atJoin = (await submitsSoFar()) - before;
    await eventually(async () => ((await submitsSoFar()) >= before + atJoin + 1000 ? true : undefined), 60000, '1,000 submits after the join');
    const atLeave = (await submitsSoFar()) - before;
    await gateway.processes.find((p) => p.name === 'carrier-dispatch')!.stop();
    assert.ok(atLeave < total - 1000, `the first replica left with messages still to send (${atLeave} of ${total} submitted)`);

    const expected = new Set(ids);
    await eventually(
      () => (new Set(submitted.events.filter((e) => expected.has(e.messageId!)).map((e) => e.messageId!)).size === total ? true : undefined),
      180000,
      `a submitted event for all ${total} messages`,
    );
    assert.equal(second.child.exitCode, null, 'the second replica is still running');
    const duplicates = await sim<{ groups: { destinationAddr: string; count: number }[] }>('/duplicates');
    assert.deepEqual(duplicates.groups.filter((g) => g.destinationAddr.startsWith('4475') && g.destinationAddr.endsWith('1234')), []);
    let received = 0;
    for (let offset = before; ; offset += 5000) {
      const page = (await sim<{ submits: SubmitRecord[] }>(`/submits?offset=${offset}&limit=5000`)).submits;
      received += page.filter(mine).length;
      if (page.length < 5000) break;
    }
    assert.equal(received, total, 'one submit per message');
    process.stderr.write(`# replicas test: second replica joined at ${atJoin} submits, first left at ${atLeave}\n`);
  });
});
