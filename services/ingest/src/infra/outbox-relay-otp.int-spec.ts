// An OTP written behind a bulk backlog in the outbox is relayed at once by the OTP loop, not after the
// backlog: the main loop takes rows in id order, so without it the OTP would wait for the whole campaign.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AcceptedOtpV1, isAcceptedTopic } from '@sms/contracts';
import { createLogger, openServiceDatabase } from '@sms/platform';
import { connectedPublisher, createTestDatabase, ensureTestTopics, eventually, testKafka, uniqueSuffix } from '@sms/testing';
import type { DataSource } from 'typeorm';
import type { EventPublisher, PublishRequest } from '@sms/kafka';
import { AcceptMessagesService } from '../application/accept-messages.service.js';
import { validateSendRequest } from '../domain/send-request.js';
import { ingestMigrations } from './migrations/index.js';
import { MessagesRepository } from './messages.repository.js';
import { OutboxRelay } from './outbox-relay.js';
import { TenantsRepository } from './tenants.repository.js';

process.env.OTEL_SDK_DISABLED = 'true';
const BATCH = 100;
const BACKLOG = 3000;

let database: { url: string; drop(): Promise<void> };
let db: DataSource;
let publisher: EventPublisher;

before(async () => {
  const kafka = testKafka('outbox-relay-otp');
  await ensureTestTopics(kafka);
  database = await createTestDatabase('ingest_relay_otp');
  db = await openServiceDatabase({ url: database.url, schema: 'ingest', migrations: ingestMigrations, applicationName: 'relay-otp-test' });
  publisher = await connectedPublisher(kafka);
});

after(async () => {
  await publisher?.disconnect();
  await db?.destroy();
  await database?.drop();
});

test('an OTP behind a promotional backlog in the outbox is published before the backlog has drained', { timeout: 120_000 }, async () => {
  const tenantId = `relay-otp-${uniqueSuffix()}`;
  await new TenantsRepository(db).upsertTenant(tenantId, 'relay otp test', false);
  const service = new AcceptMessagesService(new MessagesRepository(db), 3600, () => undefined);
  const request = (trafficClass: 'otp' | 'promotional') => {
    const valid = validateSendRequest({ to: '+447911123456', from: 'ACME', body: `relay ${trafficClass}`, trafficClass }, { maxSegments: 10 });
    assert.ok(valid.ok);
    return { tenantId, sandbox: false, message: valid.value, source: 'api' as const };
  };
  for (let i = 0; i < BACKLOG; i += 500) await service.accept(Array.from({ length: 500 }, () => request('promotional')));
  const [otp] = await service.accept([request('otp')]);
  assert.ok(otp);

  // The OTP query must stay cheap behind any backlog: it reads the partial index of OTP rows only.
  await db.query('ANALYZE outbox');
  const plan = (await db.query<{ 'QUERY PLAN': string }[]>(
    `EXPLAIN SELECT * FROM outbox WHERE topic = '${AcceptedOtpV1.topic}' AND available_at <= now() ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`,
  )).map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, /outbox_otp_due/, plan);

  // A slow broker (50 ms a publish): the backlog takes 30 publishes, so in id order the OTP would be last.
  const order: string[] = [];
  const slow = Object.create(publisher) as EventPublisher;
  slow.publishMany = async (requests: PublishRequest<unknown>[]) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await publisher.publishMany(requests);
    for (const { contract, drafts } of requests) {
      for (const d of drafts) if (d.tenantId === tenantId && isAcceptedTopic(contract.topic)) order.push(contract.topic === AcceptedOtpV1.topic ? 'otp' : 'bulk');
    }
    return result;
  };
  const relay = new OutboxRelay(db, slow, createLogger('relay', 'error'), { pollMs: 1000, batch: BATCH, loops: 1 });
  relay.start();
  await eventually(() => (order.includes('otp') ? true : undefined), 30_000, 'the OTP published');
  const bulkBeforeOtp = order.indexOf('otp');
  await eventually(async () => ((await db.query<{ n: number }[]>('SELECT count(*)::int AS n FROM outbox'))[0]!.n === 0) || undefined, 60_000, 'outbox drained');
  await relay.stop();

  assert.ok(bulkBeforeOtp <= 2 * BATCH, `the OTP waited for at most the batches already in flight, not the backlog (${bulkBeforeOtp} of ${BACKLOG} bulk rows went first)`);
  assert.equal(order.filter((o) => o === 'bulk').length, BACKLOG, 'every backlog row published once');
  assert.equal(order.filter((o) => o === 'otp').length, 1, 'the OTP published once');
});
