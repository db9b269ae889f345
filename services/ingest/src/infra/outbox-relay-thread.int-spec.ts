// The outbox relay in its worker thread: woken by commits on the main thread, it publishes every accepted
// message once with its own pool and producer, reports what it published, replaces a thread that died
// (nothing it had not committed is lost: the rows are still in the outbox), and stops cleanly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { acceptedContracts, type AcceptedPayload } from '@sms/contracts';
import { createLogger, openServiceDatabase } from '@sms/platform';
import { TopicProbe, createTestDatabase, ensureTestTopics, eventually, testKafka, uniqueSuffix } from '@sms/testing';
import type { DataSource } from 'typeorm';
import { AcceptMessagesService } from '../application/accept-messages.service.js';
import { validateSendRequest } from '../domain/send-request.js';
import { ingestMigrations } from './migrations/index.js';
import { MessagesRepository } from './messages.repository.js';
import { OutboxRelayThread } from './outbox-relay-thread.js';

process.env.OTEL_SDK_DISABLED = 'true';

let database: { url: string; drop(): Promise<void> };
let db: DataSource;
let accepted: TopicProbe<AcceptedPayload>;

before(async () => {
  const kafka = testKafka('outbox-relay-thread');
  await ensureTestTopics(kafka);
  database = await createTestDatabase('ingest_relay_thread');
  db = await openServiceDatabase({ url: database.url, schema: 'ingest', migrations: ingestMigrations, applicationName: 'relay-thread-test' });
  accepted = await new TopicProbe(kafka, acceptedContracts).start();
});

after(async () => {
  await accepted?.stop();
  await db?.destroy();
  await database?.drop();
});

test('the relay thread publishes what the main thread commits, is replaced when it dies, and stops cleanly', { timeout: 120_000 }, async () => {
  const tenantId = `relay-thread-${uniqueSuffix()}`;
  const relay = new OutboxRelayThread(
    // A poll far beyond the test: only the commits' wake-ups can make the thread relay in time.
    { databaseUrl: database.url, brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: 'error', pollMs: 600_000, batch: 50, loops: 2, poolSize: 4 },
    createLogger('relay-thread-test', 'fatal'),
    200,
  );
  const threads: Worker[] = [];
  relay.onThreadStarted = (worker) => threads.push(worker);
  let reported = 0;
  relay.onPublished = (count) => (reported += count);
  const service = new AcceptMessagesService(new MessagesRepository(db), 3600, () => relay.wake());
  const valid = validateSendRequest({ to: '+447911123456', from: 'ACME', body: 'relay thread' }, { maxSegments: 10 });
  assert.ok(valid.ok);
  const accept = async (n: number) =>
    (await service.accept(Array.from({ length: n }, () => ({ tenantId, sandbox: false, message: valid.value, source: 'api' as const })))).map((m) => m.id);
  const outboxRows = async () => ((await db.query('SELECT count(*)::int AS n FROM outbox')) as { n: number }[])[0]!.n;
  const publishedOnce = async (ids: string[]) => {
    await eventually(() => (ids.every((id) => accepted.events.some((e) => e.messageId === id)) ? true : undefined), 30_000, 'all published');
    for (const id of ids) assert.equal(accepted.events.filter((e) => e.messageId === id).length, 1, 'published once');
  };

  relay.start();
  // Wake-ups before the thread is up wait in its queue: nothing committed early is left behind.
  const first = await accept(120);
  await publishedOnce(first);
  await eventually(async () => ((await outboxRows()) === 0 ? true : undefined), 15_000, 'outbox empty');
  assert.equal(reported, 120, 'the thread reports each relayed batch to the main thread (the delay metric)');

  // The thread dies (as on an uncaught error): a new one takes over and relays what was committed since.
  await threads[0]!.terminate();
  await eventually(() => (threads.length === 2 ? true : undefined), 10_000, 'a new relay thread');
  const second = await accept(80);
  await publishedOnce(second);
  assert.equal(reported, 200);

  await relay.stop();
  assert.equal(threads.length, 2, 'no thread started after stop');
  // After stop, a commit's wake-up is a no-op and nothing is relayed any more.
  const late = await accept(5);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await outboxRows(), 5);
  assert.equal(accepted.events.filter((e) => late.includes(e.messageId!)).length, 0);
});
