import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CarrierHealthV1,
  dispatchFailedTopicByLane,
  SubmittedV1,
  dispatchTopicByLane,
  type CarrierHealthPayload,
  type DispatchFailedPayload,
  type DispatchPayload,
  type SubmittedPayload,
  type TrafficClass,
} from '@sms/contracts';
import type { EventPublisher } from '@sms/kafka';
import { freePort } from '@sms/local-stack';
import { startGateway, type RunningGateway } from '@sms/local-stack/gateway';
import type { SubmitRecord } from '@sms/smsc-simulator';
import { TopicProbe, connectedPublisher, createTestDatabase, ensureTestTopics, eventually, requireEnv, testKafka, uniqueSuffix } from '@sms/testing';

/**
 * carrier-dispatch alone against the SMPP simulator with four carriers: the simulator, a `limited` one
 * (same simulator, 100 mps), one with a host nobody listens on and one with a wrong password. Covers the
 * mps limit, adaptive slow-down, the breaker and bad carrier configs.
 */
describe('carrier-dispatch limits, breaker and bad carriers', () => {
  let gateway: RunningGateway;
  let dropDatabase: () => Promise<void>;
  let publisher: EventPublisher;
  let submitted: TopicProbe<SubmittedPayload>;
  let failed: TopicProbe<DispatchFailedPayload>;
  let health: TopicProbe<CarrierHealthPayload>;
  let dispatchUrl: string;
  let logFile: string;

  const sim = async <T>(path: string, json?: unknown): Promise<T> => {
    const r = await fetch(`${gateway.simulatorUrl}${path}`, {
      method: json === undefined ? 'GET' : 'PATCH',
      headers: json === undefined ? undefined : { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    assert.ok(r.ok, `${path}: ${r.status}`);
    return (await r.json()) as T;
  };
  const metric = async (name: string, labels: string): Promise<number | undefined> => {
    const text = await (await fetch(`${dispatchUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  const used = new Set<string>();
  const number = (suffix = ''): string => {
    for (;;) {
      const n = `+4474${String(Math.floor(Math.random() * 100000000)).padStart(8, '0')}`.slice(0, 13 - suffix.length) + suffix;
      if (!/000\d$/.test(n) && !used.has(n)) {
        used.add(n);
        return n;
      }
    }
  };
  const dispatch = async (carrierId: string, lane: TrafficClass, count = 1): Promise<{ id: string; to: string }[]> => {
    const now = new Date();
    const sent = Array.from({ length: count }, () => ({ id: randomUUID(), to: number() }));
    const drafts = sent.map(({ id, to }) => ({
      tenantId: 'e2e',
      messageId: id,
      payload: {
        to,
        from: 'ACME',
        body: 'limits',
        trafficClass: lane,
        encoding: 'GSM-7',
        segments: 1,
        validUntil: new Date(now.getTime() + 3600_000).toISOString(),
        acceptedAt: now.toISOString(),
        sandbox: false,
        carrierId,
        routeId: 'default',
        attempt: 1,
        routedAt: now.toISOString(),
      } satisfies DispatchPayload,
    }));
    for (let i = 0; i < drafts.length; i += 500) await publisher.publish(dispatchTopicByLane[lane], drafts.slice(i, i + 500));
    return sent;
  };
  const outcomes = (ids: string[]) =>
    eventually(
      () => {
        const done = new Map<string, string>();
        for (const e of submitted.events) done.set(e.messageId!, 'submitted');
        for (const e of failed.events) if (!done.has(e.messageId!)) done.set(e.messageId!, e.payload.reason.code);
        return ids.every((id) => done.has(id)) ? done : undefined;
      },
      60000,
      `outcomes of ${ids.length} messages`,
    );

  before(async () => {
    const kafka = testKafka('e2e-dispatch-limits');
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
    submitted = await new TopicProbe(kafka, SubmittedV1).start();
    failed = await new TopicProbe(kafka, Object.values(dispatchFailedTopicByLane)).start();
    health = await new TopicProbe(kafka, CarrierHealthV1).start();
    const database = await createTestDatabase('e2e_limits');
    dropDatabase = database.drop;
    const dir = mkdtempSync(join(tmpdir(), 'sms-e2e-limits-'));
    const ports = {
      ingest: await freePort(),
      router: await freePort(),
      'carrier-dispatch': await freePort(),
      'dlr-processor': await freePort(),
      notifier: await freePort(),
      smpp: await freePort(),
      simulatorHttp: await freePort(),
    };
    const deadPort = await freePort();
    const configFile = join(dir, 'gateway.yaml');
    const smpp = (port: number, password: string, binds: string) =>
      `    smpp: { host: 127.0.0.1, port: ${port}, systemId: gateway, password: ${password}, window: 50, concat: udh8, binds: ${binds} }`;
    const config = [
      'carriers:',
      '  - id: simulator',
      '    protocol: smpp',
      '    mps: 5000',
      smpp(ports.smpp, 'secret', '{ otp: 1, transactional: 1, promotional: 1 }'),
      '  - id: limited',
      '    protocol: smpp',
      '    mps: 100',
      smpp(ports.smpp, 'secret', '{ otp: 0, transactional: 1, promotional: 0 }'),
      '  - id: badhost',
      '    protocol: smpp',
      smpp(deadPort, 'secret', '{ otp: 0, transactional: 1, promotional: 0 }'),
      '  - id: badcreds',
      '    protocol: smpp',
      smpp(ports.smpp, 'wrong', '{ otp: 0, transactional: 1, promotional: 0 }'),
      'routes:',
      '  - id: default',
      '    carriers: [simulator]',
      '',
    ].join('\n');
    gateway = await startGateway({
      kafkaBrokers: requireEnv('KAFKA_BROKERS'),
      databaseUrl: database.url,
      ports,
      logDir: join(dir, 'logs'),
      gatewayConfigFile: configFile,
      demo: { tenantId: 'e2e', apiKey: 'unused', webhookSecret: 'unused' },
      mode: 'test',
      groupPrefix: `e2e-limits-${uniqueSuffix()}`,
      receiptDelayMs: 100,
      startAtTopicEnd: true,
      only: ['carrier-dispatch'],
      env: { LOG_LEVEL: 'warn', RETRY_MAX: '0', BREAKER_VOLUME_THRESHOLD: '5', BREAKER_ERROR_PERCENT: '50', BREAKER_RESET_MS: '1500' },
      log: (line) => process.stderr.write(`# ${line}\n`),
    });
    // startGateway writes the one-carrier template; this test's carriers replace it.
    writeFileSync(configFile, config);
    await gateway.restart('carrier-dispatch');
    dispatchUrl = `http://127.0.0.1:${ports['carrier-dispatch']}`;
    logFile = gateway.processes.find((p) => p.name === 'carrier-dispatch')!.logFile;
  });

  after(async () => {
    await gateway?.stop();
    await dropDatabase?.().catch(() => undefined);
    for (const probe of [submitted, failed, health]) await probe?.stop();
    await publisher?.disconnect();
  });

  test('a bad host and bad credentials show in readiness, metrics and logs; other carriers keep working; the refused bind backs off', async () => {
    const ready = (await (await fetch(`${dispatchUrl}/health/ready`)).json()) as {
      ready: boolean;
      checks: { name: string; ok: boolean; detail?: string }[];
    };
    assert.equal(ready.ready, true, 'one bad carrier does not make the service unready');
    for (const bad of ['badhost', 'badcreds']) {
      const check = ready.checks.find((c) => c.name === `carrier:${bad}/transactional`)!;
      assert.equal(check.ok, false);
      assert.match(check.detail ?? '', new RegExp(`${bad}/transactional: no bind up`));
      assert.equal(await metric('carrier_binds_up', `carrier="${bad}"`), 0);
    }
    assert.equal(ready.checks.find((c) => c.name === 'carrier:simulator/transactional')!.ok, true);
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /"session":"badcreds\/transactional\/0".*"status":"ESME_RINVPASWD".*bind refused by SMSC/);
    assert.match(log, /"session":"badhost\/transactional\/0".*SMPP connection lost; reconnecting after backoff/);

    const [ok] = await dispatch('simulator', 'transactional');
    const [down] = await dispatch('badcreds', 'transactional');
    const done = await outcomes([ok!.id, down!.id]);
    assert.equal(done.get(ok!.id), 'submitted');
    assert.equal(done.get(down!.id), 'carrier_bind_down');

    // Backoff: over 6 s a refused bind is retried a handful of times (0.5 s, 1 s, 2 s, ... with jitter), not hammered.
    const before = (await sim<{ binds: { failed: number } }>('/stats')).binds.failed;
    await new Promise((r) => setTimeout(r, 6000));
    const retries = (await sim<{ binds: { failed: number } }>('/stats')).binds.failed - before;
    assert.ok(retries <= 6, `${retries} refused binds in 6 s`);
  });

  test('a receipt the SMSC cut short is refused for good (ESME_RX_P_APPN), counted and logged; the bind stays up and reads on', async () => {
    const sumOf = async (name: string, labels: string[]): Promise<number> => {
      const text = await (await fetch(`${dispatchUrl}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    };
    // The two carriers bound to the simulator (badhost and badcreds keep reconnecting on their own).
    const ofGoodCarriers = async (name: string) => (await sumOf(name, ['carrier="simulator"'])) + (await sumOf(name, ['carrier="limited"']));
    const reconnectsBefore = await ofGoodCarriers('carrier_bind_reconnects');
    const bindsUpBefore = await ofGoodCarriers('carrier_binds_up');
    assert.ok(bindsUpBefore >= 4, `${bindsUpBefore} binds up`);
    const stats = () => sim<{ malformed: { sent: number; acked: number }; refusedPermanently: number; receipts: { retried: number } }>('/stats');
    const before = await stats();
    const injected = await fetch(`${gateway.simulatorUrl}/malformed-receipt`, { method: 'POST' });
    assert.equal(injected.status, 202);
    assert.deepEqual(await injected.json(), { sent: true });
    await eventually(async () => ((await stats()).refusedPermanently > before.refusedPermanently ? true : undefined), 10_000, 'the refusal');
    await eventually(
      async () => ((await sumOf('carrier_malformed_pdus_total', ['command="deliver_sm"', 'action="refused"'])) === 1 ? true : undefined),
      10_000,
      'carrier_malformed_pdus_total',
    );
    const after = await stats();
    assert.equal(after.malformed.sent - before.malformed.sent, 1, 'sent once: refused for good, not again after a rebind');
    assert.equal(after.malformed.acked, before.malformed.acked, 'not acknowledged as if read');
    assert.match(readFileSync(logFile, 'utf8'), /"session":"(simulator|limited)\/[a-z]+\/\d+".*"command":"deliver_sm".*"action":"refused".*malformed PDU from the SMSC/);
    // The bind that got it is still the same connection, and it still carries traffic.
    const [ok] = await dispatch('simulator', 'transactional');
    assert.equal((await outcomes([ok!.id])).get(ok!.id), 'submitted');
    assert.equal(await ofGoodCarriers('carrier_bind_reconnects'), reconnectsBefore);
    assert.equal(await ofGoodCarriers('carrier_binds_up'), bindsUpBefore);
  });

  test('the mps limit holds: at 100 mps the simulator (throttling above 120/s) never throttles, and no second sees more than ~100', async () => {
    await sim('/knobs', { throttleAboveMps: 120 });
    let sent: { id: string; to: string }[];
    try {
      sent = await dispatch('limited', 'transactional', 400);
      const done = await outcomes(sent.map((s) => s.id));
      const counts = new Map<string, number>();
      for (const s of sent) counts.set(done.get(s.id)!, (counts.get(done.get(s.id)!) ?? 0) + 1);
      assert.deepEqual([...counts], [['submitted', 400]]);
    } finally {
      await sim('/knobs', { throttleAboveMps: null });
    }
    const mine = new Set(sent.map((s) => s.to.slice(1)));
    const limited = (await sim<{ submits: SubmitRecord[] }>('/submits')).submits
      .filter((r) => mine.has(r.destinationAddr))
      .sort((a, b) => a.receivedAt - b.receivedAt);
    assert.equal(limited.length, 400);
    assert.equal(limited.filter((r) => r.commandStatusName === 'ESME_RTHROTTLED').length, 0);
    // Sliding one-second window over the arrivals: never more than the limit plus the small burst.
    let most = 0;
    for (let i = 0, j = 0; i < limited.length; i++) {
      while (limited[i]!.receivedAt - limited[j]!.receivedAt >= 1000) j++;
      most = Math.max(most, i - j + 1);
    }
    assert.ok(most <= 110, `${most} submits in one second`);
  });

  test('throttling lowers the rate (AIMD) and it recovers when the carrier does', async () => {
    await sim('/knobs', { throttleAboveMps: 20 });
    try {
      const sent = await dispatch('simulator', 'otp', 200);
      const done = await outcomes(sent.map((s) => s.id));
      assert.ok([...done.values()].includes('carrier_throttled'));
      const rate = await metric('carrier_rate_limit_mps', 'carrier="simulator"');
      assert.ok(rate !== undefined && rate < 5000, `rate ${rate}`);
      // Throttling is not a carrier failure: the breaker stays closed.
      assert.equal(await metric('carrier_breaker_state', 'carrier="simulator",lane="otp"'), 0);
    } finally {
      await sim('/knobs', { throttleAboveMps: null });
    }
    await eventually(
      async () => {
        await dispatch('simulator', 'otp');
        return (await metric('carrier_rate_limit_mps', 'carrier="simulator"')) === 5000 ? true : undefined;
      },
      30000,
      'the rate back at the ceiling',
    );
  });

  test('the breaker opens on carrier failures, fails messages over at once while open, half-opens and closes; health events and metrics follow', async () => {
    await sim('/knobs', { transientErrorRate: 1 });
    let opened: { id: string; to: string }[];
    try {
      const first = await dispatch('simulator', 'promotional', 10);
      await outcomes(first.map((s) => s.id));
      await health.waitFor((e) => e.payload.carrierId === 'simulator' && e.payload.lane === 'promotional' && e.payload.breaker === 'open', 10000, 'open');
      assert.equal(await metric('carrier_breaker_state', 'carrier="simulator",lane="promotional"'), 2);
      opened = await dispatch('simulator', 'promotional', 3);
      const done = await outcomes(opened.map((s) => s.id));
      assert.ok(opened.every((s) => done.get(s.id) === 'carrier_breaker_open'));
      assert.ok(failed.events.filter((e) => opened.some((s) => s.id === e.messageId)).every((e) => e.payload.disposition === 'failover'));
    } finally {
      await sim('/knobs', { transientErrorRate: 0 });
    }
    const records = (await sim<{ submits: SubmitRecord[] }>('/submits')).submits;
    assert.ok(opened.every((s) => !records.some((r) => `+${r.destinationAddr}` === s.to)), 'nothing sent while open');
    await health.waitFor((e) => e.payload.carrierId === 'simulator' && e.payload.lane === 'promotional' && e.payload.breaker === 'half_open', 10000, 'half open');
    const [probe] = await dispatch('simulator', 'promotional');
    assert.equal((await outcomes([probe!.id])).get(probe!.id), 'submitted');
    await health.waitFor((e) => e.payload.carrierId === 'simulator' && e.payload.lane === 'promotional' && e.payload.breaker === 'closed', 10000, 'closed');
    assert.equal(await metric('carrier_breaker_state', 'carrier="simulator",lane="promotional"'), 0);
  });
});
