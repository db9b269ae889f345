// Quiet hours on the real Kafka and PostgreSQL: a promotional message to a country in its quiet hours is
// held (scheduled/quiet_hours), released by the poller when the window ends, and routed once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DispatchPromotionalV1, StatusChangedV1, acceptedTopicByLane, type DispatchPayload, type StatusChangedPayload } from '@sms/contracts';
import type { EventPublisher, Kafka } from '@sms/kafka';
import { TopicProbe, connectedPublisher, createTestDatabase, ensureTestTopics, eventually, requireEnv, testKafka, uniqueSuffix } from '@sms/testing';
import { loadRouterConfig } from './config/router.config.js';
import { localMinute } from './domain/quiet-hours.js';
import { startRouterGroupsAtEnd } from './int-spec.fixtures.js';
import { startRouter, type RunningRouter } from './service.js';

process.env.OTEL_SDK_DISABLED = 'true';
const hhmm = (minute: number) => {
  const m = ((minute % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

describe('quiet hours on Kafka and PostgreSQL', { timeout: 240_000 }, () => {
  const suffix = uniqueSuffix();
  const tenant = `it-quiet-${suffix}`;
  const prefix = `it-quiet-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'router-quiet-'));
  let kafka: Kafka;
  let database: { url: string; drop(): Promise<void> };
  let publisher: EventPublisher;
  let statuses: TopicProbe<StatusChangedPayload>;
  let dispatches: TopicProbe<DispatchPayload>;
  let router: RunningRouter;
  let windowEnd = 0;

  before(async () => {
    kafka = testKafka('router-quiet-it');
    await ensureTestTopics(kafka);
    database = await createTestDatabase('router_quiet_it');
    await startRouterGroupsAtEnd(kafka, prefix);
    publisher = await connectedPublisher(kafka);
    statuses = await new TopicProbe(kafka, StatusChangedV1).start();
    dispatches = await new TopicProbe(kafka, DispatchPromotionalV1).start();
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      `carriers:\n  - { id: c-${suffix}, protocol: smpp, smpp: { host: h, port: 1, systemId: s, password: p } }\nroutes:\n  - { id: quiet-${suffix}, match: { tenants: [${tenant}] }, carriers: [c-${suffix}] }\n`,
    );
    // Quiet in Paris from 5 minutes ago to the start of the next minute, or the one after when fewer than 30 s
    // are left (London, an hour behind, is not). The router's start, the publish and the routing must all
    // happen before the window ends; 15 s of margin was not always enough on a loaded CI machine.
    const now = new Date();
    const paris = localMinute(now, 'Europe/Paris');
    windowEnd = paris + (now.getUTCSeconds() > 30 ? 2 : 1);
    router = await startRouter(
      loadRouterConfig({
        KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
        DATABASE_URL: database.url,
        KAFKA_GROUP_PREFIX: prefix,
        GATEWAY_MODE: 'test',
        LOG_LEVEL: 'silent',
        HTTP_PORT: '0',
        GATEWAY_CONFIG_FILE: config,
        ROUTER_QUIET_HOURS: `${hhmm(paris - 5)}-${hhmm(windowEnd)}`,
        ROUTER_HOLD_POLL_MS: '200',
      }),
    );
    await eventually(async () => (await router.runtime.readiness.report()).ready || undefined, 30_000, 'router ready');
  });

  after(async () => {
    await router?.close();
    await statuses?.stop();
    await dispatches?.stop();
    await publisher?.disconnect();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function accept(to: string, trafficClass: 'promotional' | 'otp'): Promise<string> {
    const messageId = randomUUID();
    const now = new Date();
    await publisher.publish(acceptedTopicByLane[trafficClass], [
      {
        tenantId: tenant,
        messageId,
        payload: {
          to,
          from: 'ACME',
          body: 'Spring sale',
          trafficClass,
          encoding: 'GSM-7',
          segments: 1,
          validUntil: new Date(now.getTime() + 3_600_000).toISOString(),
          acceptedAt: now.toISOString(),
          sandbox: false,
        },
      },
    ]);
    return messageId;
  }

  void test('held in the recipient country\'s quiet hours, released when they end; other countries and OTP go now', async () => {
    const france = await accept('+33612345678', 'promotional');
    const franceOtp = await accept('+33612345679', 'otp');
    const britain = await accept('+447911000001', 'promotional');
    const scheduled = await statuses.waitFor((e) => e.messageId === france && e.payload.status === 'scheduled', 20_000, 'scheduled');
    assert.equal(scheduled.payload.reason?.code, 'quiet_hours');
    assert.match(scheduled.payload.reason!.message!, /^held until \S+: quiet hours \d\d:\d\d-\d\d:\d\d in FR$/);
    await dispatches.waitFor((e) => e.messageId === britain, 20_000, 'GB promotional now');
    await statuses.waitFor((e) => e.messageId === franceOtp && e.payload.status === 'routed', 20_000, 'OTP not held');
    assert.equal(dispatches.events.filter((e) => e.messageId === france).length, 0, 'held');
    const released = await dispatches.waitFor((e) => e.messageId === france, 180_000, 'released after the window');
    assert.ok(localMinute(new Date(released.payload.routedAt), 'Europe/Paris') >= windowEnd % 1440, 'not before the window ends');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(dispatches.events.filter((e) => e.messageId === france).length, 1, 'routed once');
    const rows = await router.runtime.dataSource.query<unknown[]>('SELECT 1 FROM held_messages');
    assert.equal(rows.length, 0);
  });
});
