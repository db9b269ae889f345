// The outbox relay is killed (SIGKILL) after Kafka acknowledged a batch and before the batch's rows were
// deleted: every accepted message is still published at least once, a republished event keeps its event
// id, and a consumer that dedupes on message id (as the router does) sees each message exactly once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { acceptedContracts, type AcceptedPayload } from '@sms/contracts';
import { createLogger, openServiceDatabase } from '@sms/platform';
import { TopicProbe, connectedPublisher, createTestDatabase, ensureTestTopics, eventually, requireEnv, testKafka, uniqueSuffix } from '@sms/testing';
import type { DataSource } from 'typeorm';
import type { EventPublisher, Kafka } from '@sms/kafka';
import { AcceptMessagesService } from '../application/accept-messages.service.js';
import { validateSendRequest } from '../domain/send-request.js';
import { ingestMigrations } from './migrations/index.js';
import { MessagesRepository } from './messages.repository.js';
import { OutboxRelay } from './outbox-relay.js';

process.env.OTEL_SDK_DISABLED = 'true';
const MESSAGES = 300;
const BATCH = 50;

let kafka: Kafka;
let database: { url: string; drop(): Promise<void> };
let db: DataSource;
let publisher: EventPublisher;
let probe: TopicProbe<AcceptedPayload>;

before(async () => {
  kafka = testKafka('outbox-crash');
  await ensureTestTopics(kafka);
  database = await createTestDatabase('ingest_crash');
  db = await openServiceDatabase({ url: database.url, schema: 'ingest', migrations: ingestMigrations, applicationName: 'crash-test' });
  publisher = await connectedPublisher(kafka);
  probe = await new TopicProbe(kafka, acceptedContracts).start();
});

after(async () => {
  await probe?.stop();
  await publisher?.disconnect();
  await db?.destroy();
  await database?.drop();
});

test('a relay killed between publish and commit loses nothing; duplicates keep their event id and dedupe by message id', { timeout: 120_000 }, async () => {
  const tenantId = `crash-${uniqueSuffix()}`;
  const service = new AcceptMessagesService(new MessagesRepository(db), 3600, () => undefined);
  const valid = validateSendRequest({ to: '+447911123456', from: 'ACME', body: 'crash test' }, { maxSegments: 10 });
  assert.ok(valid.ok);
  const accepted = await service.accept(Array.from({ length: MESSAGES }, () => ({ tenantId, sandbox: true, message: valid.value, source: 'api' as const })));
  const ids = new Set(accepted.map((m) => m.id));

  const child = spawn(process.execPath, [fileURLToPath(new URL('../testing/relay-crash-child.js', import.meta.url))], {
    env: { ...process.env, DATABASE_URL: database.url, KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'), RELAY_BATCH: String(BATCH), CRASH_AFTER_BATCH: '2' },
    stdio: 'inherit',
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, s) => resolve(s)));
  assert.equal(signal, 'SIGKILL');

  // Batch 1 was committed; batch 2 was published but its rows survived the crash.
  const left: { n: number }[] = await db.query('SELECT count(*)::int AS n FROM outbox');
  assert.equal(left[0]!.n, MESSAGES - BATCH);
  const mine = () => probe.events.filter((e) => e.tenantId === tenantId);
  await eventually(() => mine().length >= 2 * BATCH || undefined, 20_000, 'the two batches published before the crash');

  // A new relay (another replica, or the restarted process) finishes the job.
  const relay = new OutboxRelay(db, publisher, createLogger('relay', 'error'), { pollMs: 50, batch: BATCH });
  relay.start();
  await eventually(async () => ((await db.query<{ n: number }[]>('SELECT count(*)::int AS n FROM outbox'))[0]!.n === 0) || undefined, 30_000, 'outbox drained');
  await relay.stop();
  await eventually(() => new Set(mine().map((e) => e.messageId)).size === MESSAGES || undefined, 30_000, 'every message published');

  const events = mine();
  const byMessage = new Map<string, Set<string>>();
  for (const e of events) byMessage.set(e.messageId!, (byMessage.get(e.messageId!) ?? new Set()).add(e.eventId));
  assert.deepEqual(new Set(byMessage.keys()), ids, 'every accepted message was published');
  assert.ok(events.length >= MESSAGES + BATCH, `the crashed batch was published twice (${events.length} events)`);
  for (const eventIds of byMessage.values()) assert.equal(eventIds.size, 1, 'a republished message keeps its event id');
  // Router-style dedupe on message id: each message is handled once.
  const handled = new Set<string>();
  let duplicatesDropped = 0;
  for (const e of events) {
    if (handled.has(e.messageId!)) duplicatesDropped++;
    else handled.add(e.messageId!);
  }
  assert.equal(handled.size, MESSAGES);
  assert.equal(duplicatesDropped, events.length - MESSAGES);
});
