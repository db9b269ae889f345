import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AcceptedTransactionalV1, type AcceptedPayload } from '@sms/contracts';
import type { Producer } from 'kafkajs';
import { BatchConsumer, type ConsumedEvent } from './consumer.js';
import { createKafka } from './client.js';
import { ensureTopics } from './admin.js';
import { silentLogger } from './logger.js';
import { acceptedPayload, brokers, waitUntil } from './int-spec.fixtures.js';
import { EventPublisher } from './publisher.js';

/**
 * slicesInFlight on the real broker: a partition's next slice is handled while the previous one still
 * waits, yet offsets are committed in offset order (a later slice's success never commits past an earlier
 * slice that was not handled) and slices sharing a record key never overlap.
 */
describe('BatchConsumer slicesInFlight on real Kafka', () => {
  const kafka = createKafka({ brokers: brokers(), clientId: 'kafka-slices-int', logger: silentLogger });
  const publisher = new EventPublisher(kafka);
  let producer: Producer;

  before(async () => {
    await ensureTopics(kafka);
    await publisher.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  after(async () => {
    await producer.disconnect();
    await publisher.disconnect();
  });

  const newIds = (count: number): string[] => Array.from({ length: count }, () => randomUUID());

  /** Valid events written to partition 0 in this order (the publisher would spread them by key). */
  const sendToPartition0 = async (marker: string, ids: string[], keyOf: (i: number) => string = () => randomUUID()): Promise<void> => {
    await producer.send({
      topic: AcceptedTransactionalV1.topic,
      messages: ids.map((messageId, i) => ({
        partition: 0,
        key: keyOf(i),
        value: JSON.stringify({
          eventId: randomUUID(),
          type: AcceptedTransactionalV1.type,
          version: AcceptedTransactionalV1.version,
          occurredAt: new Date().toISOString(),
          tenantId: marker,
          messageId,
          payload: acceptedPayload(),
        }),
      })),
    });
  };

  const consumerFor = (marker: string, handle: (mine: ConsumedEvent<AcceptedPayload>[]) => Promise<void>) =>
    new BatchConsumer(kafka, {
      groupId: `int-slices-${marker}`,
      fromBeginning: false,
      publisher,
      logger: silentLogger,
      maxBatchSize: 10,
      slicesInFlight: 2,
      retryBaseDelayMs: 50,
      subscriptions: [
        {
          contract: AcceptedTransactionalV1,
          // Other specs share the topic: only this test's events count.
          handle: async (batch: ConsumedEvent<AcceptedPayload>[]) => handle(batch.filter((e) => e.envelope.tenantId === marker)),
        },
      ],
    });

  /** Starts a consumer and waits until it has handled (and committed) a first event on partition 0. */
  const started = async (consumer: BatchConsumer, seen: Set<string>, marker: string): Promise<void> => {
    await consumer.start();
    await new Promise((r) => setTimeout(r, 1500)); // let the group settle at the log end
    const [warmUp] = newIds(1);
    await sendToPartition0(marker, [warmUp!]);
    await waitUntil(() => seen.has(warmUp!), 'the warm-up event');
    await new Promise((r) => setTimeout(r, 1500)); // past the auto-commit interval
  };

  test('the next slice of a partition is handled while the previous one still waits', async () => {
    const marker = randomUUID();
    const seen = new Set<string>();
    const ids = newIds(30);
    const firstId = ids[0]!;
    let releaseFirst: (() => void) | undefined;
    let overlapped = false;
    const consumer = consumerFor(marker, async (mine) => {
      if (mine.some((e) => e.envelope.messageId === firstId)) {
        // Holds the first slice until another slice of the partition reaches the handler (or 5 s pass).
        await new Promise<void>((resolve) => {
          releaseFirst = resolve;
          setTimeout(resolve, 5000);
        });
        // Only a slice handled while this one was held counts as overlapping.
        releaseFirst = undefined;
      } else if (releaseFirst && mine.length > 0) {
        overlapped = true;
        releaseFirst();
      }
      for (const e of mine) seen.add(e.envelope.messageId!);
    });
    await started(consumer, seen, marker);
    await sendToPartition0(marker, ids);
    await waitUntil(() => ids.every((id) => seen.has(id)), 'all 30 events');
    await consumer.stop();
    assert.ok(overlapped, 'a second slice was handled while the first was held');
  });

  test('a later slice handled while an earlier one keeps failing does not commit past it: the earlier events come again', async () => {
    const marker = randomUUID();
    const seen = new Set<string>();
    const ids = newIds(20);
    // Ten events a slice: the first slice fails, the second succeeds meanwhile.
    const failing = new Set(ids.slice(0, 10));
    const first = consumerFor(marker, async (mine) => {
      if (mine.some((e) => failing.has(e.envelope.messageId!))) {
        // An infrastructure error is retried until it clears (here: until the consumer stops).
        throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      }
      for (const e of mine) seen.add(e.envelope.messageId!);
    });
    await started(first, seen, marker);
    await sendToPartition0(marker, ids);
    await waitUntil(() => ids.slice(10).every((id) => seen.has(id)), 'the second slice, handled while the first fails');
    assert.ok(ids.slice(0, 10).every((id) => !seen.has(id)));
    await first.stop();

    const again = new Set<string>();
    const second = consumerFor(marker, async (mine) => {
      for (const e of mine) again.add(e.envelope.messageId!);
    });
    await second.start();
    await waitUntil(() => ids.slice(0, 10).every((id) => again.has(id)), 'the failed slice redelivered to the next member');
    await second.stop();
  });

  test('slices sharing a record key never overlap', async () => {
    const marker = randomUUID();
    const seen = new Set<string>();
    const spans: { ids: Set<string>; start: number; end: number }[] = [];
    const consumer = consumerFor(marker, async (mine) => {
      if (mine.length === 0) return;
      const start = Date.now();
      await new Promise((r) => setTimeout(r, 300));
      for (const e of mine) seen.add(e.envelope.messageId!);
      spans.push({ ids: new Set(mine.map((e) => e.envelope.messageId!)), start, end: Date.now() });
    });
    await started(consumer, seen, marker);
    // Events 3 and 13 (one in each slice of ten) share a key, like a redelivery next to a retry of one message.
    const shared = randomUUID();
    const ids = newIds(20);
    await sendToPartition0(marker, ids, (i) => (i === 3 || i === 13 ? shared : randomUUID()));
    await waitUntil(() => ids.every((id) => seen.has(id)), 'all 20 events');
    await consumer.stop();
    const a = spans.find((s) => s.ids.has(ids[3]!))!;
    const b = spans.find((s) => s.ids.has(ids[13]!))!;
    assert.notEqual(a, b, 'the two events were in different slices');
    assert.ok(b.start >= a.end, `the slice with the repeated key started at ${b.start}, before the first ended at ${a.end}`);
  });
});
