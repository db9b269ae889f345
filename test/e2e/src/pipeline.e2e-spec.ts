import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { DEAD_LETTER_TOPIC, SendRequestedV1, StatusChangedV1, type StatusChangedPayload } from '@sms/contracts';
import { EventPublisher, type Kafka } from '@sms/kafka';
import { TopicProbe, ensureTestTopics, eventually, testKafka } from '@sms/testing';
import { HttpRecorder, startE2eStack, type E2eStack } from './harness.js';

/**
 * The first message end to end, black-box: REST (and Kafka) in, through all five services over real
 * Kafka topics, SMPP to the simulator over TCP, its receipt back, and a signed webhook out.
 */
describe('pipeline end to end', () => {
  let stack: E2eStack;
  let hooks: HttpRecorder;
  let collector: HttpRecorder;
  let kafka: Kafka;
  let statuses: TopicProbe<StatusChangedPayload>;
  let deadLetters: TopicProbe<unknown>;

  before(async () => {
    hooks = await new HttpRecorder().start();
    collector = await new HttpRecorder().start();
    kafka = testKafka('e2e');
    await ensureTestTopics(kafka);
    statuses = await new TopicProbe(kafka, StatusChangedV1).start();
    deadLetters = await new TopicProbe<unknown>(kafka, DEAD_LETTER_TOPIC).start();
    stack = await startE2eStack({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url(''),
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });

  after(async () => {
    await stack?.gateway.stop();
    await statuses?.stop();
    await deadLetters?.stop();
    await hooks?.stop();
    await collector?.stop();
  });

  const webhookFor = (messageId: string) =>
    eventually(
      () => hooks.requests.find((r) => (JSON.parse(r.body) as { data: { messageId: string } }).data.messageId === messageId),
      20000,
      `webhook for ${messageId}`,
    );

  test('POST /v1/messages is delivered, webhooked with a valid Standard Webhooks signature, and GET shows the history', async () => {
    const response = await stack.api('/v1/messages', {
      method: 'POST',
      json: { to: '+447911000001', from: 'ACME', body: 'Your code is 123456', callbackUrl: hooks.url('/hooks/sms') },
    });
    assert.equal(response.status, 202);
    const accepted = (await response.json()) as { id: string; status: string; encoding: string; segments: number };
    assert.equal(accepted.status, 'accepted');
    assert.equal(accepted.encoding, 'GSM-7');
    assert.equal(accepted.segments, 1);

    const hook = await webhookFor(accepted.id);
    const verified = new Webhook(stack.webhookSecret).verify(hook.body, {
      'webhook-id': String(hook.headers['webhook-id']),
      'webhook-timestamp': String(hook.headers['webhook-timestamp']),
      'webhook-signature': String(hook.headers['webhook-signature']),
    }) as { data: { status: string } };
    assert.equal(verified.data.status, 'delivered');
    assert.ok(!hook.body.includes('123456'), 'the message body never travels in a webhook');

    const view = await eventually(async () => {
      const body = (await (await stack.api(`/v1/messages/${accepted.id}`)).json()) as { status: string; history: { status: string }[] };
      return body.status === 'delivered' ? body : undefined;
    }, 10000, 'read model to show delivered');
    assert.deepEqual(
      view.history.map((h) => h.status),
      ['accepted', 'routed', 'submitted', 'delivered'],
    );
  });

  test('one trace per message: spans of all five services share the trace id of the caller', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await stack.api('/v1/messages', {
      method: 'POST',
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      json: { to: '+447911000001', from: 'ACME', body: 'trace me', callbackUrl: hooks.url('/hooks/trace') },
    });
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    await webhookFor(id);
    const services = await eventually(() => {
      const seen = new Set<string>();
      for (const request of collector.requests) {
        const body = JSON.parse(request.body) as {
          resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { traceId: string; name: string }[] }[] }[];
        };
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans) for (const span of ss.spans) if (span.traceId === traceId) seen.add(service);
        }
      }
      return seen.size === 5 ? seen : undefined;
    }, 20000, 'spans from all five services in one trace');
    assert.deepEqual([...services].sort(), ['carrier-dispatch', 'dlr-processor', 'ingest', 'notifier', 'router']);
  });

  test('a send-request published on Kafka gets the same lifecycle and a public status event', async () => {
    const publisher = new EventPublisher(kafka);
    await publisher.connect();
    const reference = `kafka-${randomUUID()}`;
    await publisher.publish(SendRequestedV1, [
      {
        tenantId: 'demo',
        payload: { to: '+447911000001', from: 'ACME', body: 'from kafka', trafficClass: 'otp', reference, callbackUrl: hooks.url('/hooks/kafka') },
      },
    ]);
    await publisher.disconnect();
    const delivered = await statuses.waitFor((e) => e.payload.reference === reference && e.payload.status === 'delivered', 20000, 'delivered');
    await webhookFor(delivered.messageId!);
  });

  test('magic numbers drive the carrier outcomes: undeliverable and rejected at submit', async () => {
    const send = async (to: string) => {
      const r = await stack.api('/v1/messages', { method: 'POST', json: { to, from: 'ACME', body: 'outcome' } });
      assert.equal(r.status, 202);
      return ((await r.json()) as { id: string }).id;
    };
    const undeliverable = await send('+447911000002');
    const rejected = await send('+447911000003');
    const u = await statuses.waitFor((e) => e.messageId === undeliverable && e.payload.status === 'undelivered', 20000, 'undelivered');
    assert.match(u.payload.reason?.carrierCode ?? '', /UNDELIV/);
    const r = await statuses.waitFor((e) => e.messageId === rejected && e.payload.status === 'rejected', 20000, 'rejected');
    assert.equal(r.payload.reason?.code, 'invalid_destination');
  });

  test('bad input: unknown key 401, malformed JSON and bad numbers 400 naming the field, all problem+json', async () => {
    const unauthorized = await stack.api('/v1/messages', { method: 'POST', headers: { authorization: 'Bearer nope' }, json: {} });
    assert.equal(unauthorized.status, 401);
    assert.match(unauthorized.headers.get('content-type') ?? '', /application\/problem\+json/);

    const malformed = await stack.api('/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.headers.get('content-type') ?? '', /application\/problem\+json/);

    const badNumber = await stack.api('/v1/messages', { method: 'POST', json: { to: '12', from: 'ACME', body: 'x' } });
    assert.equal(badNumber.status, 400);
    const problem = (await badNumber.json()) as { errors: { field: string }[] };
    assert.deepEqual(problem.errors.map((e) => e.field), ['to']);
  });

  test('a malformed event is dead-lettered with a reason and the consumer moves on', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: SendRequestedV1.topic, messages: [{ key: 'demo', value: '{not json' }] });
    await producer.disconnect();
    const letter = await deadLetters.waitForRaw((r) => r.headers['dlq-origin-topic'] === SendRequestedV1.topic && r.value === '{not json');
    assert.equal(letter.headers['dlq-reason'], 'invalid_json');
    const after = await stack.api('/v1/messages', { method: 'POST', json: { to: '+447911000001', from: 'ACME', body: 'after poison' } });
    const { id } = (await after.json()) as { id: string };
    await statuses.waitFor((e) => e.messageId === id && e.payload.status === 'delivered', 20000, 'delivery after poison');
  });
});
