import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AcceptedTransactionalV1, DEAD_LETTER_TOPIC, type AcceptedPayload } from '@sms/contracts';
import { BatchConsumer, type ConsumedEvent } from './consumer.js';
import { createKafka } from './client.js';
import { ensureTopics } from './admin.js';
import { PermanentEventError } from './errors.js';
import { silentLogger } from './logger.js';
import { acceptedPayload, brokers, waitUntil } from './int-spec.fixtures.js';
import { EventPublisher } from './publisher.js';

const payload = (to = '+447911000001'): AcceptedPayload => acceptedPayload({ to, trafficClass: 'otp' });

/**
 * The Kafka core on the real broker: batches arrive validated, bad records go to the dead-letter topic with
 * a reason, a poison event never stalls the partition, and trace context travels in headers.
 */
describe('BatchConsumer on real Kafka', () => {
  const kafka = createKafka({ brokers: brokers(), clientId: 'kafka-int', logger: silentLogger });
  const publisher = new EventPublisher(kafka);
  const deadLetters: { value: string; headers: Record<string, string> }[] = [];
  let dlqConsumer: ReturnType<typeof kafka.consumer>;

  before(async () => {
    await ensureTopics(kafka);
    await publisher.connect();
    dlqConsumer = kafka.consumer({ groupId: `dlq-probe-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: false });
    let joined = false;
    dlqConsumer.on(dlqConsumer.events.GROUP_JOIN, () => (joined = true));
    await dlqConsumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
        deadLetters.push({ value: message.value?.toString() ?? '', headers });
      },
    });
    await waitUntil(() => joined, 'dead-letter probe to join');
  });

  after(async () => {
    await dlqConsumer.disconnect();
    await publisher.disconnect();
  });

  test('valid events arrive in batches; malformed and contract-violating records are dead-lettered with a reason', async () => {
    const marker = randomUUID();
    const received: ConsumedEvent<AcceptedPayload>[] = [];
    const consumer = new BatchConsumer(kafka, {
      groupId: `int-${marker}`,
      fromBeginning: false,
      publisher,
      logger: silentLogger,
      subscriptions: [{ contract: AcceptedTransactionalV1, handle: async (batch: ConsumedEvent<AcceptedPayload>[]) => void received.push(...batch) }],
    });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 1500)); // let the group settle at the log end
    const ids = Array.from({ length: 50 }, () => randomUUID());
    await publisher.publish(AcceptedTransactionalV1, ids.map((messageId) => ({ tenantId: marker, messageId, payload: payload() })));
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({
      topic: AcceptedTransactionalV1.topic,
      messages: [
        { key: 'x', value: `not json ${marker}` },
        { key: 'y', value: JSON.stringify({ eventId: randomUUID(), type: 'sms.accepted', version: 1, occurredAt: new Date().toISOString(), tenantId: marker, messageId: randomUUID(), payload: { ...payload(), to: 'nope' } }) },
      ],
    });
    const lastId = randomUUID();
    await publisher.publish(AcceptedTransactionalV1, [{ tenantId: marker, messageId: lastId, payload: payload() }]);
    await raw.disconnect();
    await waitUntil(() => received.some((e) => e.envelope.messageId === lastId), 'the event after the bad ones');
    await waitUntil(() => received.filter((e) => e.envelope.tenantId === marker).length === 51, 'all valid events');
    // Keyed by message id over 6 partitions: order holds per key, so compare as sets.
    assert.deepEqual(
      new Set(received.filter((e) => e.envelope.tenantId === marker).map((e) => e.envelope.messageId)),
      new Set([...ids, lastId]),
    );
    await waitUntil(() => deadLetters.filter((d) => d.headers['dlq-consumer-group'] === `int-${marker}`).length >= 2, 'two dead letters');
    const reasons = deadLetters.filter((d) => d.headers['dlq-consumer-group'] === `int-${marker}`).map((d) => d.headers['dlq-reason']).sort();
    assert.deepEqual(reasons, ['invalid_json', 'schema_violation']);
    await consumer.stop();
  });

  test('a poison event (handler keeps failing on it) is dead-lettered after isolation; the others are processed', async () => {
    const marker = randomUUID();
    const poison = randomUUID();
    const processed = new Set<string>();
    const consumer = new BatchConsumer(kafka, {
      groupId: `int-${marker}`,
      fromBeginning: false,
      publisher,
      logger: silentLogger,
      retryBaseDelayMs: 10,
      subscriptions: [
        {
          contract: AcceptedTransactionalV1,
          handle: async (batch: ConsumedEvent<AcceptedPayload>[]) => {
            if (batch.some((e) => e.envelope.messageId === poison)) throw new TypeError('bug triggered by this event');
            for (const e of batch) processed.add(e.envelope.messageId!);
          },
        },
      ],
    });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 1500));
    const before = [randomUUID(), randomUUID()];
    const afterIds = [randomUUID(), randomUUID()];
    await publisher.publish(AcceptedTransactionalV1, [...before, poison, ...afterIds].map((messageId) => ({ tenantId: marker, messageId, payload: payload() })));
    await waitUntil(() => [...before, ...afterIds].every((id) => processed.has(id)), 'the healthy events around the poison one');
    await waitUntil(
      () => deadLetters.some((d) => d.headers['dlq-consumer-group'] === `int-${marker}` && d.headers['dlq-reason'] === 'handler_failed'),
      'the poison event in the dead-letter topic',
    );
    await consumer.stop();
  });

  test('a PermanentEventError dead-letters only the events it names', async () => {
    const marker = randomUUID();
    const bad = randomUUID();
    const processed = new Set<string>();
    const consumer = new BatchConsumer(kafka, {
      groupId: `int-${marker}`,
      fromBeginning: false,
      publisher,
      logger: silentLogger,
      subscriptions: [
        {
          contract: AcceptedTransactionalV1,
          handle: async (batch: ConsumedEvent<AcceptedPayload>[]) => {
            const poisoned = batch.filter((e) => e.envelope.messageId === bad);
            if (poisoned.length > 0) throw new PermanentEventError('refers to nothing', poisoned.map((e) => e.envelope.eventId));
            for (const e of batch) processed.add(e.envelope.messageId!);
          },
        },
      ],
    });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 1500));
    const good = randomUUID();
    await publisher.publish(AcceptedTransactionalV1, [bad, good].map((messageId) => ({ tenantId: marker, messageId, payload: payload() })));
    await waitUntil(() => processed.has(good), 'the good event');
    await waitUntil(
      () => deadLetters.some((d) => d.headers['dlq-consumer-group'] === `int-${marker}` && d.headers['dlq-reason'] === 'permanent_error'),
      'the permanent failure in the dead-letter topic',
    );
    await consumer.stop();
  });

  test('trace context travels from the producer to the consumer in W3C headers', async () => {
    const { contextFromTraceparent, trace } = await import('@sms/telemetry');
    const marker = randomUUID();
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    let seen: string | undefined;
    const consumer = new BatchConsumer(kafka, {
      groupId: `int-${marker}`,
      fromBeginning: false,
      publisher,
      logger: silentLogger,
      subscriptions: [
        {
          contract: AcceptedTransactionalV1,
          handle: async (batch: ConsumedEvent<AcceptedPayload>[]) => {
            const mine = batch.find((e) => e.envelope.tenantId === marker);
            if (mine) seen = trace.getSpanContext(mine.context)?.traceId;
          },
        },
      ],
    });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 1500));
    await publisher.publish(AcceptedTransactionalV1, [
      { tenantId: marker, messageId: randomUUID(), payload: payload(), context: contextFromTraceparent(`00-${traceId}-0102030405060708-01`) },
    ]);
    await waitUntil(() => seen !== undefined, 'the traced event');
    assert.equal(seen, traceId);
    await consumer.stop();
  });
});
