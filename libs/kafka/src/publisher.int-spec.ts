import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AcceptedTransactionalV1, type AcceptedPayload } from '@sms/contracts';
import { contextFromTraceparent, trace } from '@sms/telemetry';
import { createKafka } from './client.js';
import { ensureTopics } from './admin.js';
import { EventContractViolation } from './errors.js';
import { silentLogger } from './logger.js';
import { acceptedPayload, brokers, waitUntil } from './int-spec.fixtures.js';
import { EventPublisher } from './publisher.js';

const payload = (): AcceptedPayload => acceptedPayload();

interface RawRecord {
  key: string;
  envelope: { eventId: string; type: string; version: number; occurredAt: string; tenantId: string; messageId?: string };
  headers: Record<string, string>;
}

/**
 * What a published record looks like on the wire: the JSON envelope as value, the message id as key and the
 * W3C trace context as the only headers (event id, type and version live in the envelope). Runs first with
 * tracing off (no tracer provider: the services' OTEL_SDK_DISABLED case), then with a recording provider.
 */
describe('EventPublisher records on real Kafka', () => {
  const kafka = createKafka({ brokers: brokers(), clientId: 'publisher-int', logger: silentLogger });
  const publisher = new EventPublisher(kafka);
  const tenant = `pub-${randomUUID()}`;
  const records: RawRecord[] = [];
  let consumer: ReturnType<typeof kafka.consumer>;
  const traceId = 'c0ffee00c0ffee00c0ffee00c0ffee00';
  const parentSpanId = '0102030405060708';
  const parent = () => contextFromTraceparent(`00-${traceId}-${parentSpanId}-01`);
  const recordOf = async (messageId: string) => {
    await waitUntil(() => records.some((r) => r.key === messageId), `record ${messageId}`);
    return records.find((r) => r.key === messageId)!;
  };

  before(async () => {
    await ensureTopics(kafka);
    await publisher.connect();
    consumer = kafka.consumer({ groupId: `publisher-probe-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: AcceptedTransactionalV1.topic, fromBeginning: false });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = message.value?.toString() ?? '';
        if (!value.includes(tenant)) return;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
        records.push({ key: message.key?.toString() ?? '', envelope: JSON.parse(value) as RawRecord['envelope'], headers });
      },
    });
    await waitUntil(() => joined, 'probe to join');
  });

  after(async () => {
    await consumer.disconnect();
    await publisher.disconnect();
  });

  test('tracing off: the only header is the incoming traceparent, and none without a trace', async () => {
    const traced = randomUUID();
    const untraced = randomUUID();
    const [envelopes] = await publisher.publishMany([
      {
        contract: AcceptedTransactionalV1,
        drafts: [
          { tenantId: tenant, messageId: traced, payload: payload(), context: parent() },
          { tenantId: tenant, messageId: untraced, payload: payload() },
        ],
      },
    ]);
    const record = await recordOf(traced);
    assert.deepEqual(record.headers, { traceparent: `00-${traceId}-${parentSpanId}-01` });
    assert.deepEqual((await recordOf(untraced)).headers, {});
    // Everything the dropped headers said is in the envelope.
    assert.equal(record.envelope.type, AcceptedTransactionalV1.type);
    assert.equal(record.envelope.version, AcceptedTransactionalV1.version);
    assert.equal(record.envelope.eventId, envelopes![0]!.eventId);
    assert.equal(record.envelope.messageId, traced);
    // One call, one clock reading.
    assert.equal(envelopes![0]!.occurredAt, envelopes![1]!.occurredAt);
  });

  test('an explicit occurredAt is kept; an invalid payload is refused before anything is sent', async () => {
    const messageId = randomUUID();
    const occurredAt = new Date('2026-01-02T03:04:05.678Z');
    await publisher.publish(AcceptedTransactionalV1, [{ tenantId: tenant, messageId, payload: payload(), occurredAt }]);
    assert.equal((await recordOf(messageId)).envelope.occurredAt, occurredAt.toISOString());

    const valid = randomUUID();
    const invalid = randomUUID();
    await assert.rejects(
      publisher.publish(AcceptedTransactionalV1, [
        { tenantId: tenant, messageId: valid, payload: payload() },
        { tenantId: tenant, messageId: invalid, payload: { ...payload(), to: 'not a number' } },
      ]),
      EventContractViolation,
    );
    const marker = randomUUID();
    await publisher.publish(AcceptedTransactionalV1, [{ tenantId: tenant, messageId: marker, payload: payload() }]);
    await recordOf(marker);
    assert.equal(records.some((r) => r.key === valid || r.key === invalid), false, 'the batch with a bad event sent nothing');
  });

  test('a prevalidated request is sent as the caller built it, without the payload check', async () => {
    const messageId = randomUUID();
    // A key the schema would strip shows the payload was not parsed.
    const unparsed = { ...payload(), note: 'kept' } as AcceptedPayload;
    await publisher.publishMany([{ contract: AcceptedTransactionalV1, drafts: [{ tenantId: tenant, messageId, payload: unparsed }], prevalidated: true }]);
    const record = await recordOf(messageId);
    assert.equal((record.envelope as unknown as { payload: { note?: string } }).payload.note, 'kept');
    const checkedId = randomUUID();
    await publisher.publishMany([{ contract: AcceptedTransactionalV1, drafts: [{ tenantId: tenant, messageId: checkedId, payload: unparsed }] }]);
    assert.equal((((await recordOf(checkedId)).envelope as unknown as { payload: { note?: string } }).payload.note), undefined);
  });

  test('many one-draft requests for one topic (the router makes one per message) arrive complete and in order', async () => {
    const messageId = randomUUID();
    const other = randomUUID();
    const requests = Array.from({ length: 300 }, (_, i) => ({
      contract: AcceptedTransactionalV1,
      drafts: [{ tenantId: tenant, messageId: i % 3 === 2 ? other : messageId, payload: { ...payload(), reference: String(i) } }],
    }));
    const result = await publisher.publishMany(requests);
    assert.equal(result.length, 300);
    assert.ok(result.every((envelopes, i) => envelopes.length === 1 && (envelopes[0]!.payload as AcceptedPayload).reference === String(i)));
    await waitUntil(() => records.filter((r) => r.key === messageId || r.key === other).length === 300, 'all 300 records');
    // One key, one partition: the records of a key are in the order the requests listed them.
    for (const key of [messageId, other]) {
      const references = records.filter((r) => r.key === key).map((r) => Number((r.envelope as unknown as { payload: AcceptedPayload }).payload.reference));
      assert.deepEqual(references, [...references].sort((x, y) => x - y));
    }
  });

  test('tracing on: the traceparent names the PRODUCER span, a child of the incoming one, with its attributes', async () => {
    const spans = new InMemorySpanExporter();
    assert.ok(trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })));
    const messageId = randomUUID();
    await publisher.publish(AcceptedTransactionalV1, [{ tenantId: tenant, messageId, payload: payload(), context: parent() }]);
    const record = await recordOf(messageId);
    const span = spans.getFinishedSpans().find((s) => s.attributes['sms.message_id'] === messageId);
    assert.ok(span, 'a PRODUCER span was recorded');
    assert.equal(span.name, `publish ${AcceptedTransactionalV1.topic}`);
    assert.equal(span.spanContext().traceId, traceId);
    assert.equal(span.parentSpanContext?.spanId, parentSpanId);
    assert.equal(span.attributes['messaging.destination.name'], AcceptedTransactionalV1.topic);
    assert.equal(span.attributes['sms.tenant_id'], tenant);
    assert.deepEqual(record.headers, { traceparent: `00-${traceId}-${span.spanContext().spanId}-01` });
  });
});
