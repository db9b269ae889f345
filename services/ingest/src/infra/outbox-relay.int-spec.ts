// The outbox relay on a backlog: helper loops relay accepted rows side by side with the main loop (SKIP
// LOCKED gives each disjoint rows), every row is published once, and api-key-changed rows, which only the
// main loop takes, reach Kafka in the order they were written (a key's creation before its revocation).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeyChangedV1, isAcceptedTopic } from '@sms/contracts';
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

let database: { url: string; drop(): Promise<void> };
let db: DataSource;
let publisher: EventPublisher;

before(async () => {
  const kafka = testKafka('outbox-relay');
  await ensureTestTopics(kafka);
  database = await createTestDatabase('ingest_relay');
  db = await openServiceDatabase({ url: database.url, schema: 'ingest', migrations: ingestMigrations, applicationName: 'relay-test' });
  publisher = await connectedPublisher(kafka);
});

after(async () => {
  await publisher?.disconnect();
  await db?.destroy();
  await database?.drop();
});

test('on a backlog, helper loops relay accepted rows in parallel; api-key-changed rows keep their order', { timeout: 120_000 }, async () => {
  const tenantId = `relay-${uniqueSuffix()}`;
  const tenants = new TenantsRepository(db);
  await tenants.upsertTenant(tenantId, 'relay test', false);
  const service = new AcceptMessagesService(new MessagesRepository(db), 3600, () => undefined);
  const valid = validateSendRequest({ to: '+447911123456', from: 'ACME', body: 'relay test' }, { maxSegments: 10 });
  assert.ok(valid.ok);
  const messageIds = new Set<string>();
  // Key changes written between bulk inserts, so they sit at ids spread over the whole backlog.
  const keyChangesWritten: string[] = [];
  for (let round = 0; round < 6; round++) {
    const accepted = await service.accept(Array.from({ length: 400 }, () => ({ tenantId, sandbox: false, message: valid.value, source: 'api' as const })));
    for (const m of accepted) messageIds.add(m.id);
    const { id, prefix } = await tenants.createKey(tenantId, ['send']);
    keyChangesWritten.push(`created:${prefix}`);
    assert.equal(await tenants.revokeKey(id), 1);
    keyChangesWritten.push(`revoked:${prefix}`);
  }

  // Records what is published and how many publishes overlap; the records still go to the real Kafka.
  let inFlight = 0;
  let maxInFlight = 0;
  const published: string[] = [];
  const keyChangesPublished: string[] = [];
  const recording = Object.create(publisher) as EventPublisher;
  recording.publishMany = async (requests: PublishRequest<unknown>[]) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    for (const { contract, drafts } of requests) {
      for (const d of drafts) {
        if (d.tenantId !== tenantId) continue;
        if (isAcceptedTopic(contract.topic)) published.push(d.messageId!);
        if (contract.topic === ApiKeyChangedV1.topic) {
          const p = d.payload as { keyPrefix: string; revokedAt?: string };
          keyChangesPublished.push(`${p.revokedAt ? 'revoked' : 'created'}:${p.keyPrefix}`);
        }
      }
    }
    try {
      return await publisher.publishMany(requests);
    } finally {
      inFlight--;
    }
  };

  const relay = new OutboxRelay(db, recording, createLogger('relay', 'error'), { pollMs: 50, batch: BATCH, loops: 4 });
  relay.start();
  await eventually(async () => ((await db.query<{ n: number }[]>('SELECT count(*)::int AS n FROM outbox'))[0]!.n === 0) || undefined, 60_000, 'outbox drained');
  await relay.stop();

  assert.ok(maxInFlight > 1, `publishes overlapped (at most ${maxInFlight} at once)`);
  assert.equal(published.length, messageIds.size, 'each accepted row published once');
  assert.deepEqual(new Set(published), messageIds);
  assert.deepEqual(keyChangesPublished, keyChangesWritten, 'key changes in the order they were written');
});
