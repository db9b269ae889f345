// The router with two routing threads (ROUTER_WORKERS=2) on the real Kafka and PostgreSQL: every lane's
// messages routed exactly once by threads that share each lane's partitions; a reload (and a refused one)
// and a breaker change reach both threads; failover (main thread) still re-dispatches what a thread
// routed; /metrics and readiness include the threads; a lost thread is reported, not ignored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acceptedTopicByLane,
  CarrierHealthV1,
  dispatchFailedTopicByLane,
  DispatchOtpV1,
  DispatchPromotionalV1,
  DispatchTransactionalV1,
  StatusChangedV1,
  trafficClasses,
  type DispatchPayload,
  type StatusChangedPayload,
  type TrafficClass,
} from '@sms/contracts';
import type { EventPublisher, Kafka } from '@sms/kafka';
import { TopicProbe, connectedPublisher, createTestDatabase, ensureTestTopics, eventually, requireEnv, testKafka, uniqueSuffix } from '@sms/testing';
import { loadRouterConfig } from './config/router.config.js';
import { carrierYaml, publishAccepted, startRouterGroupsAtEnd } from './int-spec.fixtures.js';
import { startRouter, type RunningRouter } from './service.js';
import type { RoutingThreadStatus } from './workers/protocol.js';
import { ROUTING_THREAD_YOUNG_GENERATION_MB } from './workers/routing-threads.js';

process.env.OTEL_SDK_DISABLED = 'true';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Events of `topic` a thread has routed, from its own metrics. */
const consumedBy = (status: RoutingThreadStatus, topic: string): number =>
  status.metrics
    .find((m) => m.name === 'kafka_events_consumed_total')
    ?.values.filter((v) => v.labels.topic === topic)
    .reduce((sum, v) => sum + v.value, 0) ?? 0;

describe('router with two routing threads on Kafka and PostgreSQL', { timeout: 240_000 }, () => {
  const suffix = uniqueSuffix();
  const tenant = `it-threads-${suffix}`;
  const prefix = `it-threads-${suffix}`;
  const a = `a-${suffix}`;
  const b = `b-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'router-threads-it-'));
  const configFile = join(dir, 'gateway.yaml');
  let kafka: Kafka;
  let database: { url: string; drop(): Promise<void> };
  let publisher: EventPublisher;
  let statuses: TopicProbe<StatusChangedPayload>;
  const lanes = {} as Record<TrafficClass, TopicProbe<DispatchPayload>>;
  let router: RunningRouter;
  const lost: string[] = [];

  const fileWith = (carriers: string) =>
    `carriers:\n${carrierYaml(a)}${carrierYaml(b)}routes:\n  - id: all\n    match: { tenants: [${tenant}] }\n    carriers: [${carriers}]\n`;
  const accept = (lane: TrafficClass) => publishAccepted(publisher, tenant, lane);
  const acceptMany = (lane: TrafficClass, count: number) => Promise.all(Array.from({ length: count }, () => accept(lane)));
  const dispatchesOf = (lane: TrafficClass, messageId: string) => lanes[lane].events.filter((e) => e.messageId === messageId && e.payload.routeId === 'all');
  /** Waits until each message has its first dispatch; returns them by message id. */
  const firstDispatches = async (lane: TrafficClass, ids: string[]) => {
    await eventually(() => ids.every((id) => dispatchesOf(lane, id).length > 0) || undefined, 30_000, `${ids.length} ${lane} dispatches`);
    return new Map(ids.map((id) => [id, dispatchesOf(lane, id)[0]!]));
  };
  const threadStatuses = () => router.threads!.statuses();

  before(async () => {
    kafka = testKafka('router-threads-it');
    await ensureTestTopics(kafka);
    database = await createTestDatabase('router_threads_it');
    await startRouterGroupsAtEnd(kafka, prefix);
    publisher = await connectedPublisher(kafka);
    statuses = await new TopicProbe(kafka, StatusChangedV1).start();
    lanes.otp = await new TopicProbe(kafka, DispatchOtpV1).start();
    lanes.transactional = await new TopicProbe(kafka, DispatchTransactionalV1).start();
    lanes.promotional = await new TopicProbe(kafka, DispatchPromotionalV1).start();
    writeFileSync(configFile, fileWith(`${a}, ${b}`));
    router = await startRouter(
      loadRouterConfig({
        KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
        DATABASE_URL: database.url,
        KAFKA_GROUP_PREFIX: prefix,
        GATEWAY_MODE: 'test',
        LOG_LEVEL: 'silent',
        HTTP_PORT: '0',
        GATEWAY_CONFIG_FILE: configFile,
        ROUTER_CONFIG_POLL_MS: '100',
        ROUTER_WORKERS: '2',
      }),
      { onThreadLost: (reason) => lost.push(reason) },
    );
    await eventually(async () => (await router.runtime.readiness.report()).ready || undefined, 60_000, 'router ready');
  });

  after(async () => {
    await router?.close();
    await statuses?.stop();
    for (const probe of Object.values(lanes)) await probe.stop();
    await publisher?.disconnect();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  void test('both threads route every lane; each message is dispatched and reported routed exactly once', async () => {
    assert.equal(router.threads?.size, 2);
    assert.deepEqual(router.threads?.youngGenerationsMb(), [ROUTING_THREAD_YOUNG_GENERATION_MB, ROUTING_THREAD_YOUNG_GENERATION_MB]);
    const before = await threadStatuses();
    const sent = new Map<TrafficClass, string[]>();
    for (const lane of trafficClasses) sent.set(lane, await acceptMany(lane, 120));
    for (const lane of trafficClasses) await firstDispatches(lane, sent.get(lane)!);
    const all = [...sent.values()].flat();
    await eventually(() => all.every((id) => statuses.events.some((e) => e.messageId === id && e.payload.status === 'routed')) || undefined, 30_000, 'routed statuses');
    await sleep(1500); // a second dispatch (a batch routed twice across a rebalance) would have arrived by now
    for (const lane of trafficClasses) {
      for (const id of sent.get(lane)!) assert.equal(dispatchesOf(lane, id).length, 1, `${lane} ${id} dispatched once`);
    }
    for (const id of all) assert.equal(statuses.events.filter((e) => e.messageId === id && e.payload.status === 'routed').length, 1);
    // Each lane's partitions are shared by the two threads: both routed some of each lane.
    const after = await threadStatuses();
    for (const lane of trafficClasses) {
      const topic = acceptedTopicByLane[lane].topic;
      const perThread = after.map((s, i) => consumedBy(s, topic) - consumedBy(before[i]!, topic));
      assert.ok(perThread.every((n) => n > 0), `${lane}: routed per thread ${perThread.join(', ')}`);
      assert.equal(perThread.reduce((x, y) => x + y, 0), 120);
    }
  });

  void test('a reload reaches every thread; a refused file reaches none', async () => {
    const routed = () => threadStatuses().then((s) => s.map((t) => consumedBy(t, acceptedTopicByLane.promotional.topic)));
    writeFileSync(configFile, fileWith(b));
    await eventually(async () => (await threadStatuses()).every((s) => s.routesVersion === router.threads!.currentRoutesVersion && s.routesVersion > 0) || undefined, 20_000, 'reload in every thread');
    const version = router.threads!.currentRoutesVersion;
    const before = await routed();
    const ids = await acceptMany('promotional', 60);
    for (const dispatch of (await firstDispatches('promotional', ids)).values()) assert.equal(dispatch.payload.carrierId, b);
    const after = await routed();
    assert.ok(after.every((n, i) => n > before[i]!), `both threads routed by the new file (${before.join(', ')} -> ${after.join(', ')})`);

    writeFileSync(configFile, fileWith('nope'));
    const refused = await fetch(`${await router.app.getUrl()}/metrics`).then((r) => r.text());
    await eventually(
      async () => /router_config_reloads_total\{[^}]*result="failure"[^}]*\} [1-9]/.test(await fetch(`${await router.app.getUrl()}/metrics`).then((r) => r.text())) || undefined,
      20_000,
      `refused reload (${refused.length} bytes of metrics before)`,
    );
    assert.equal(router.threads!.currentRoutesVersion, version, 'a refused file is not posted');
    const again = await acceptMany('promotional', 30);
    for (const dispatch of (await firstDispatches('promotional', again)).values()) assert.equal(dispatch.payload.carrierId, b);
    assert.ok((await threadStatuses()).every((s) => s.routesVersion === version));
    writeFileSync(configFile, fileWith(`${a}, ${b}`));
    await eventually(() => router.threads!.currentRoutesVersion > version || undefined, 20_000, 'reload back');
  });

  void test('a breaker opened on carrier-health is skipped by both threads; failover re-dispatches what a thread routed', async () => {
    await publisher.publish(CarrierHealthV1, [
      { tenantId: 'system', payload: { carrierId: a, lane: 'otp', breaker: 'open', bindsUp: 0, bindsTotal: 1, changedAt: new Date().toISOString() } },
    ]);
    await eventually(() => router.health.breaker(a, 'otp') === 'open' || undefined, 20_000, 'breaker state read');
    const before = await threadStatuses();
    const ids = await acceptMany('otp', 60);
    const dispatches = await firstDispatches('otp', ids);
    for (const dispatch of dispatches.values()) assert.equal(dispatch.payload.carrierId, b);
    const after = await threadStatuses();
    const topic = acceptedTopicByLane.otp.topic;
    assert.ok(after.every((s, i) => consumedBy(s, topic) > consumedBy(before[i]!, topic)), 'both threads routed OTPs while the breaker was open');

    // The transactional lane still goes to a first; a's failure there is failed over to b by the main thread.
    const [id] = await acceptMany('transactional', 1);
    const first = (await firstDispatches('transactional', [id!])).get(id!)!;
    assert.equal(first.payload.carrierId, a);
    await publisher.publish(dispatchFailedTopicByLane.transactional, [
      {
        tenantId: tenant,
        messageId: id!,
        payload: {
          carrierId: a,
          routeId: 'all',
          trafficClass: 'transactional',
          attempt: 1,
          disposition: 'failover',
          finalStatus: 'failed',
          reason: { code: 'carrier_unavailable' },
        },
      },
    ]);
    const second = await lanes.transactional.waitFor((e) => e.messageId === id && e.payload.attempt === 2, 20_000, 'failover dispatch');
    assert.equal(second.payload.carrierId, b);
    await publisher.publish(CarrierHealthV1, [
      { tenantId: 'system', payload: { carrierId: a, lane: 'otp', breaker: 'closed', bindsUp: 1, bindsTotal: 1, changedAt: new Date().toISOString() } },
    ]);
    await eventually(() => router.health.breaker(a, 'otp') === 'closed' || undefined, 20_000, 'breaker closed');
  });

  void test('/metrics sums the threads; readiness covers them', async () => {
    const text = await fetch(`${await router.app.getUrl()}/metrics`).then((r) => r.text());
    const perThread = await threadStatuses();
    for (const lane of trafficClasses) {
      const topic = acceptedTopicByLane[lane].topic;
      const line = text.split('\n').find((l) => l.startsWith('kafka_events_consumed_total{') && l.includes(`topic="${topic}"`));
      assert.ok(line, `consumed count of ${topic} on /metrics`);
      const shown = Number(line.slice(line.lastIndexOf(' ') + 1));
      // Scraped before the statuses were read: at most what the threads report now, and from both of them.
      assert.ok(shown <= perThread.reduce((sum, s) => sum + consumedBy(s, topic), 0));
      assert.ok(shown > Math.max(...perThread.map((s) => consumedBy(s, topic))), `${topic}: ${shown} is more than one thread's count`);
    }
    assert.equal(text.match(/^process_cpu_seconds_total /gm)?.length ?? text.match(/^process_cpu_seconds_total\{/gm)?.length, 1, 'process metrics once');
    const report = await router.runtime.readiness.report();
    assert.deepEqual(report.checks.find((c) => c.name === 'routing-threads'), { name: 'routing-threads', ok: true, detail: 'threads=2', optional: undefined });
    assert.equal(report.checks.some((c) => c.name.startsWith('consumer:') && c.name.includes('.router.otp')), false, 'the lanes are not consumed on the main thread');
  });

  void test('a thread that dies is reported lost and the router is no longer ready', async () => {
    assert.deepEqual(lost, []);
    await router.threads!.terminate(1);
    await eventually(() => lost.length > 0 || undefined, 10_000, 'lost thread reported');
    assert.match(lost[0]!, /routing thread 1 exited \(code \d+\) while the router was running/);
    const report = await router.runtime.readiness.report();
    assert.equal(report.ready, false);
    assert.equal(report.checks.find((c) => c.name === 'routing-threads')?.ok, false);
  });
});
