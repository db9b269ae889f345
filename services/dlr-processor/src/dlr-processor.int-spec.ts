// The dlr-processor in-process against the real Kafka and PostgreSQL: events in on its two topics, status
// events (and dead letters) out, with its tables checked where the topic alone cannot show the behaviour.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  DEAD_LETTER_TOPIC,
  DlrReceivedV1,
  StatusChangedV1,
  SubmittedV1,
  UNKNOWN_TENANT,
  type DlrReceivedPayload,
  type EventEnvelope,
  type StatusChangedPayload,
  type SubmittedPayload,
} from '@sms/contracts';
import type { EventPublisher, Kafka } from '@sms/kafka';
import { contextFromTraceparent, trace } from '@sms/telemetry';
import {
  TopicProbe,
  commitGroupAtTopicEnds,
  connectedPublisher,
  createTestDatabase,
  ensureTestTopics,
  eventually,
  requireEnv,
  testKafka,
  uniqueSuffix,
} from '@sms/testing';
import { loadDlrProcessorConfig } from './config/dlr-processor.config.js';
import { normaliseCarrierMessageId, signCarrierBody } from './domain/http-receipt.js';
import { EXPIRE_OVERDUE_SQL } from './infra/dlr.repository.js';
import { startDlrProcessor, type RunningDlrProcessor } from './service.js';

// Spans are collected in memory (no exporter process) so the test can check the trace is continued.
process.env.OTEL_SDK_DISABLED = 'true';
const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));

const TENANT = 'it-tenant';
const HTTP_SECRET = randomBytes(24).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dlr-processor on Kafka and PostgreSQL', { timeout: 240_000 }, () => {
  const suffix = uniqueSuffix();
  const carrierId = `it-carrier-${suffix}`;
  const prefix = `it-dlr-${suffix}`;
  let kafka: Kafka;
  let database: { url: string; drop(): Promise<void> };
  let publisher: EventPublisher;
  let statuses: TopicProbe<StatusChangedPayload>;
  let deadLetters: TopicProbe<unknown>;
  let service: RunningDlrProcessor;

  const sql = <T>(query: string, params: unknown[] = []): Promise<T[]> =>
    service.runtime.dataSource.query<T[]>(query, params);
  const statusesOf = (messageId: string) => statuses.events.filter((e) => e.messageId === messageId);
  const waitForStatus = (messageId: string, status: string) =>
    statuses.waitFor(
      (e) => e.messageId === messageId && e.payload.status === status,
      30_000,
      `${status} of ${messageId}`,
    );
  const counter = async (name: string, labels = ''): Promise<number> => {
    const text = await service.runtime.metrics.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };

  async function publishSubmitted(
    messageId: string,
    carrierIds: string[],
    options: { validUntil?: Date; traceparent?: string; callbackUrl?: string } = {},
  ): Promise<EventEnvelope<SubmittedPayload>> {
    const now = new Date();
    const [envelope] = await publisher.publish(SubmittedV1, [
      {
        tenantId: TENANT,
        messageId,
        context: contextFromTraceparent(options.traceparent),
        payload: {
          carrierId,
          trafficClass: 'otp',
          parts: carrierIds.map((carrierMessageId, index) => ({
            index,
            carrierMessageId,
            submittedAt: now.toISOString(),
          })),
          totalParts: carrierIds.length,
          acceptedAt: new Date(now.getTime() - 1000).toISOString(),
          validUntil: (options.validUntil ?? new Date(now.getTime() + 3_600_000)).toISOString(),
          callbackUrl: options.callbackUrl,
          reference: `ref-${messageId.slice(0, 8)}`,
        },
      },
    ]);
    return envelope!;
  }

  async function publishReceipt(
    carrierMessageId: string,
    text: string,
    extra: Partial<DlrReceivedPayload> & { eventId?: string } = {},
  ): Promise<EventEnvelope<DlrReceivedPayload>> {
    const { eventId, ...payload } = extra;
    const [envelope] = await publisher.publish(DlrReceivedV1, [
      {
        tenantId: UNKNOWN_TENANT,
        eventId,
        payload: { carrierId, carrierMessageId, text, receivedAt: new Date().toISOString(), ...payload },
      },
    ]);
    return envelope!;
  }

  const receiptText = (id: string, stat: string, err = '000') =>
    `id:${id} sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:${stat} err:${err} text:Your code is 483920`;
  const newIds = (count: number) => ({
    messageId: randomUUID(),
    carrierIds: Array.from({ length: count }, () => `${suffix}${randomUUID().slice(0, 8)}`.toUpperCase()),
  });
  const history = (messageId: string) =>
    sql<{
      event_id: string;
      outcome: string;
      applied: boolean;
      receipt_text: string;
      held_at: Date | null;
      part_index: number;
    }>(
      'SELECT event_id, outcome, applied, receipt_text, held_at, part_index FROM receipt_history WHERE message_id = $1 ORDER BY id',
      [messageId],
    );

  before(async () => {
    kafka = testKafka('dlr-processor-it');
    await ensureTestTopics(kafka);
    database = await createTestDatabase('dlr_it');
    // A new group would read the shared topics from the beginning (other suites' events, which would then
    // get status events of their own): start it at the end instead.
    await commitGroupAtTopicEnds(kafka, `${prefix}.dlr-processor`, [SubmittedV1.topic, DlrReceivedV1.topic]);
    publisher = await connectedPublisher(kafka);
    statuses = await new TopicProbe(kafka, StatusChangedV1).start();
    deadLetters = await new TopicProbe<unknown>(kafka, DEAD_LETTER_TOPIC).start();
    service = await startDlrProcessor(
      loadDlrProcessorConfig({
        KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
        DATABASE_URL: database.url,
        KAFKA_GROUP_PREFIX: prefix,
        GATEWAY_MODE: 'test',
        LOG_LEVEL: 'warn',
        HTTP_PORT: '0',
        DLR_SWEEP_INTERVAL_MS: '250',
        DLR_EXPIRY_GRACE_MS: '0',
        DLR_PENDING_RECEIPT_TTL_MS: '1500',
        DLR_HTTP_CARRIER_SECRETS: `${carrierId}=${HTTP_SECRET}`,
      }),
    );
    await eventually(
      async () => (await service.runtime.readiness.report()).ready || undefined,
      30_000,
      'service ready',
    );
  });

  after(async () => {
    await service?.close();
    await statuses?.stop();
    await deadLetters?.stop();
    await publisher?.disconnect();
    await database?.drop();
  });

  void test('delivered: submitted then a DELIVRD receipt, continuing the message trace', async () => {
    const { messageId, carrierIds } = newIds(1);
    const traceId = randomUUID().replace(/-/g, '');
    await publishSubmitted(messageId, carrierIds, {
      traceparent: `00-${traceId}-${'1'.repeat(16)}-01`,
      callbackUrl: 'https://example.test/hooks/sms',
    });
    const submitted = await waitForStatus(messageId, 'submitted');
    assert.equal(submitted.payload.sequence, 2);
    assert.deepEqual(submitted.payload.parts, { total: 1, delivered: 0, failed: 0 });

    const receipt = await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    const delivered = await waitForStatus(messageId, 'delivered');
    assert.equal(delivered.tenantId, TENANT);
    assert.deepEqual(
      { ...delivered.payload, changedAt: undefined },
      {
        status: 'delivered',
        reason: {
          code: 'delivered',
          message: '1 of 1 part(s) delivered',
          carrierCode: 'stat:DELIVRD err:000',
        },
        carrierId,
        trafficClass: 'otp',
        parts: { total: 1, delivered: 1, failed: 0 },
        sequence: 3,
        changedAt: undefined,
        reference: `ref-${messageId.slice(0, 8)}`,
        callbackUrl: 'https://example.test/hooks/sms',
      },
    );

    // The status event travels in the message's trace, not the receipt's.
    const raw = statuses.raw.find((r) => r.value.includes(delivered.eventId))!;
    assert.equal(raw.headers.traceparent?.split('-')[1], traceId);
    const apply = await eventually(
      () =>
        spans
          .getFinishedSpans()
          .find((s) => s.name === 'apply receipt' && s.attributes['sms.message_id'] === messageId),
      10_000,
      'apply receipt span',
    );
    assert.equal(apply.spanContext().traceId, traceId);
    assert.equal(apply.attributes['sms.tenant_id'], TENANT);
    assert.equal(apply.attributes['sms.carrier'], carrierId);
    assert.equal(apply.attributes['sms.part'], 0);
    assert.equal(apply.attributes['sms.status'], 'delivered');
    const receiptSpan = spans
      .getFinishedSpans()
      .find(
        (s) =>
          s.name === `process ${DlrReceivedV1.topic}` &&
          s.attributes['messaging.message.id'] === receipt.eventId,
      );
    assert.ok(receiptSpan, 'the receipt consumer span');
    assert.deepEqual(
      apply.links.map((l) => l.context.spanId),
      [receiptSpan.spanContext().spanId],
    );

    // Stored without the echoed message text.
    const [row] = await history(messageId);
    assert.deepEqual([row?.outcome, row?.applied], ['applied', true]);
    assert.ok(!row!.receipt_text.includes('483920'), 'receipt text is redacted');
  });

  void test('a receipt before its submitted event is held (parked past the TTL, never dropped) and then applied', async () => {
    const { messageId, carrierIds } = newIds(1);
    const parkedBefore = await counter('dlr_pending_receipts_parked_total');
    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    await eventually(
      async () =>
        (
          await sql<{ parked: boolean }>(
            'SELECT parked FROM pending_receipts WHERE carrier_message_id = $1',
            [carrierIds[0]],
          )
        )[0]?.parked,
      15_000,
      'receipt parked after the TTL',
    );
    // The metrics follow the row's commit; poll them too rather than read them once.
    await eventually(async () => ((await counter('dlr_pending_receipts_parked_total')) > parkedBefore) || undefined, 5_000, 'parked counter');
    await eventually(async () => ((await counter('dlr_pending_receipts', 'state="parked"')) >= 1) || undefined, 5_000, 'parked gauge');

    await publishSubmitted(messageId, carrierIds);
    await waitForStatus(messageId, 'delivered');
    const rows = await history(messageId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.applied, true);
    assert.ok(rows[0]!.held_at, 'history remembers it was held');
    assert.deepEqual(
      await sql('SELECT 1 FROM pending_receipts WHERE carrier_message_id = $1', [carrierIds[0]]),
      [],
    );
    // submitted precedes the final status on the topic.
    assert.deepEqual(
      statusesOf(messageId).map((e) => e.payload.status),
      ['submitted', 'delivered'],
    );
  });

  void test('a duplicate receipt is recorded, not applied; a redelivered event is not recorded twice', async () => {
    const { messageId, carrierIds } = newIds(1);
    await publishSubmitted(messageId, carrierIds);
    const first = await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    await waitForStatus(messageId, 'delivered');
    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'), { eventId: first.eventId });
    const rows = await eventually(async () => {
      const r = await history(messageId);
      return r.length >= 2 ? r : undefined;
    });
    await sleep(1000);
    assert.deepEqual(
      (await history(messageId)).map((r) => [r.outcome, r.applied]),
      [
        ['applied', true],
        ['late', false],
      ],
    );
    assert.equal(rows[0]!.event_id, first.eventId);
    assert.equal(statusesOf(messageId).filter((e) => e.payload.status === 'delivered').length, 1);
  });

  void test('a carrier id that already belongs to another message is not taken over by a later message', async () => {
    const first = newIds(1);
    const secondId = randomUUID();
    await publishSubmitted(first.messageId, first.carrierIds);
    await waitForStatus(first.messageId, 'submitted');
    await publishSubmitted(secondId, first.carrierIds);
    await waitForStatus(secondId, 'submitted');
    const owners = await sql<{ message_id: string }>('SELECT message_id FROM message_parts WHERE carrier_message_id = $1', [first.carrierIds[0]]);
    assert.deepEqual(owners.map((o) => o.message_id), [first.messageId]);
    assert.equal((await sql<{ n: number }>('SELECT count(*)::int AS n FROM message_parts WHERE message_id = $1', [secondId]))[0]!.n, 0);
    await publishReceipt(first.carrierIds[0]!, receiptText(first.carrierIds[0]!, 'DELIVRD'));
    await waitForStatus(first.messageId, 'delivered');
  });

  void test('multipart: delivered only after both parts are', async () => {
    const { messageId, carrierIds } = newIds(2);
    await publishSubmitted(messageId, carrierIds);
    await waitForStatus(messageId, 'submitted');
    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    await eventually(async () => ((await history(messageId)).length === 1 ? true : undefined));
    await sleep(500);
    assert.equal(
      statusesOf(messageId).filter((e) => e.payload.status !== 'submitted').length,
      0,
      'no final after one part',
    );

    await publishReceipt(carrierIds[1]!, receiptText(carrierIds[1]!, 'DELIVRD'), { messageState: 2 });
    const delivered = await waitForStatus(messageId, 'delivered');
    assert.deepEqual(delivered.payload.parts, { total: 2, delivered: 2, failed: 0 });
  });

  void test('an undelivered part makes the message undelivered with the raw carrier code', async () => {
    const { messageId, carrierIds } = newIds(2);
    await publishSubmitted(messageId, carrierIds);
    await publishReceipt(carrierIds[1]!, receiptText(carrierIds[1]!, 'UNDELIV', '001'));
    const undelivered = await waitForStatus(messageId, 'undelivered');
    assert.deepEqual(undelivered.payload.reason, {
      code: 'undelivered',
      message: '1 of 2 part(s) failed',
      carrierCode: 'stat:UNDELIV err:001',
    });
    assert.deepEqual(undelivered.payload.parts, { total: 2, delivered: 0, failed: 1 });

    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    await eventually(async () => ((await history(messageId)).length === 2 ? true : undefined));
    assert.deepEqual(
      (await history(messageId)).map((r) => [r.part_index, r.outcome]),
      [
        [1, 'applied'],
        [0, 'late'],
      ],
    );
    assert.equal(statusesOf(messageId).filter((e) => e.payload.status === 'delivered').length, 0);
  });

  void test('garbage receipt text is recorded as unparseable and the consumer carries on', async () => {
    const { messageId, carrierIds } = newIds(1);
    await publishSubmitted(messageId, carrierIds);
    await publishReceipt(carrierIds[0]!, '\u0001\u0002 total garbage ### stat');
    await eventually(async () => ((await history(messageId)).length === 1 ? true : undefined));
    const [row] = await history(messageId);
    assert.deepEqual([row?.outcome, row?.applied], ['unparseable', false]);

    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    await waitForStatus(messageId, 'delivered');
  });

  void test('a malformed event on the receipt topic is dead-lettered and later events still flow', async () => {
    const group = `${prefix}.dlr-processor`;
    await publisher.sendRaw(DlrReceivedV1.topic, [{ key: `bad-${suffix}`, value: 'this is not json' }]);
    await publisher.sendRaw(DlrReceivedV1.topic, [
      {
        key: `bad2-${suffix}`,
        value: JSON.stringify({
          eventId: randomUUID(),
          type: DlrReceivedV1.type,
          version: 1,
          occurredAt: new Date().toISOString(),
          tenantId: UNKNOWN_TENANT,
          payload: { carrierId, text: 'stat:DELIVRD' },
        }),
      },
    ]);
    const invalidJson = await deadLetters.waitForRaw(
      (r) => r.key === `bad-${suffix}` && r.headers['dlq-consumer-group'] === group,
      30_000,
    );
    assert.equal(invalidJson.headers['dlq-reason'], 'invalid_json');
    assert.equal(invalidJson.headers['dlq-origin-topic'], DlrReceivedV1.topic);
    assert.equal(invalidJson.value, 'this is not json');
    const violation = await deadLetters.waitForRaw(
      (r) => r.key === `bad2-${suffix}` && r.headers['dlq-consumer-group'] === group,
      30_000,
    );
    assert.equal(violation.headers['dlq-reason'], 'schema_violation');

    const { messageId, carrierIds } = newIds(1);
    await publishSubmitted(messageId, carrierIds);
    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    await waitForStatus(messageId, 'delivered');
  });

  void test('a message with no final receipt by its validity plus grace is expired by the sweeper', async () => {
    const { messageId, carrierIds } = newIds(2);
    await publishSubmitted(messageId, carrierIds, { validUntil: new Date(Date.now() - 1000) });
    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    const expired = await waitForStatus(messageId, 'expired');
    assert.equal(expired.payload.reason?.code, 'expired_no_receipt');
    assert.equal(expired.payload.sequence, 3);
    assert.equal(expired.payload.parts?.total, 2);

    // The carrier reports after all: recorded, the final status stands.
    await publishReceipt(carrierIds[1]!, receiptText(carrierIds[1]!, 'DELIVRD'));
    await eventually(async () =>
      (await history(messageId)).some((r) => r.part_index === 1) ? true : undefined,
    );
    assert.equal((await history(messageId)).find((r) => r.part_index === 1)?.outcome, 'late');
    const [message] = await sql<{ status: string }>('SELECT status FROM messages WHERE message_id = $1', [
      messageId,
    ]);
    assert.equal(message?.status, 'expired');
  });

  void test("the group started at the end of the shared topics: only this suite's receipts were seen", async () => {
    const unknownCarriers = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM receipt_history WHERE carrier_id <> $1',
      [carrierId],
    );
    assert.equal(unknownCarriers[0]?.n, 0);
    const messages = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE carrier_id <> $1',
      [carrierId],
    );
    assert.equal(messages[0]?.n, 0);
  });

  void test('metrics are served on /metrics', async () => {
    const response = await fetch(`${await service.app.getUrl()}/metrics`);
    const body = await response.text();
    assert.equal(response.status, 200);
    assert.match(body, /dlr_receipts_total\{outcome="applied"[^}]*\} \d+/);
    assert.match(body, /dlr_receipts_total\{outcome="unparseable"/);
    assert.match(body, /dlr_status_changes_total\{status="delivered"/);
    assert.match(body, /dlr_pending_receipts\{state="held"/);
    assert.match(body, /sms_accept_to_final_seconds_bucket/);
  });
  // --- HTTP carrier receipts --------------------------------------------------------------------------------

  const postReceipts = async (
    body: unknown,
    options: { carrier?: string; secret?: string; timestamp?: number; contentType?: string; raw?: string } = {},
  ) => {
    const raw = options.raw ?? JSON.stringify(body);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const response = await fetch(`${await service.app.getUrl()}/v1/carriers/${options.carrier ?? carrierId}/receipts`, {
      method: 'POST',
      headers: {
        'content-type': options.contentType ?? 'application/json',
        'x-carrier-timestamp': timestamp,
        'x-carrier-signature': `sha256=${signCarrierBody(options.secret ?? HTTP_SECRET, timestamp, raw)}`,
      },
      body: raw,
    });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  // Submitted parts carry the id as carrier-dispatch normalises it (lower case, no leading zeros); the carrier
  // sends it in upper case and zero-padded. The random ids start with a zero one time in sixteen: normalising
  // the submitted side (not merely lower-casing it) keeps that case from failing the suite now and then.
  const newHttpIds = (count: number) => {
    const ids = newIds(count);
    return {
      messageId: ids.messageId,
      carrierIds: ids.carrierIds.map(normaliseCarrierMessageId),
      asSent: ids.carrierIds.map((c) => `00${c}`),
    };
  };

  void test('HTTP carrier receipts: signed JSON is normalised and applied like an SMPP receipt', async () => {
    const one = newHttpIds(1);
    const two = newHttpIds(2);
    await publishSubmitted(one.messageId, one.carrierIds);
    await publishSubmitted(two.messageId, two.carrierIds);
    const single = await postReceipts({ carrierMessageId: one.asSent[0], status: 'delivered', errorCode: '000', doneAt: '2026-01-02T03:04:05Z' });
    assert.equal(single.status, 200);
    assert.deepEqual(single.json, { accepted: 1 });
    const delivered = await waitForStatus(one.messageId, 'delivered');
    assert.equal(delivered.payload.reason?.carrierCode, 'stat:DELIVRD err:000');
    // The status event is published just before the batch commits: wait for the history row.
    const row = await eventually(
      async () =>
        (
          await sql<{ receipt_text: string; message_state: number }>(
            'SELECT receipt_text, message_state FROM receipt_history WHERE message_id = $1',
            [one.messageId],
          )
        )[0],
    );
    assert.equal(row?.message_state, 2);
    assert.match(row?.receipt_text ?? '', /done date:2601020304 stat:DELIVRD err:000/);

    // A batch; an SMPP-style stat and a numeric error code; an unknown status is kept as unparseable.
    const batch = await postReceipts([
      { carrierMessageId: two.carrierIds[0], status: 'teleported' },
      { carrierMessageId: two.carrierIds[1], status: 'UNDELIV', errorCode: 34 },
    ]);
    assert.equal(batch.status, 200);
    const undelivered = await waitForStatus(two.messageId, 'undelivered');
    assert.equal(undelivered.payload.reason?.carrierCode, 'stat:UNDELIV err:34');
    const rows = await eventually(async () => {
      const r = await history(two.messageId);
      return r.length === 2 ? r : undefined;
    });
    assert.deepEqual(rows.map((r) => [r.part_index, r.outcome]).sort(), [
      [0, 'unparseable'],
      [1, 'applied'],
    ]);
  });

  void test('HTTP carrier receipts: bad signature 401, unknown carrier 404, malformed body 400, all problem+json', async () => {
    const { messageId, carrierIds } = newHttpIds(1);
    await publishSubmitted(messageId, carrierIds);
    const good = { carrierMessageId: carrierIds[0], status: 'delivered' };
    const cases = [
      { name: 'wrong secret', result: await postReceipts(good, { secret: 'not-the-secret-at-all' }), status: 401 },
      { name: 'stale timestamp', result: await postReceipts(good, { timestamp: Math.floor(Date.now() / 1000) - 3600 }), status: 401 },
      { name: 'unknown carrier', result: await postReceipts(good, { carrier: 'no-such-carrier' }), status: 404 },
      { name: 'invalid JSON', result: await postReceipts(undefined, { raw: '{"carrierMessageId":' }), status: 400 },
      { name: 'missing status', result: await postReceipts({ carrierMessageId: carrierIds[0] }), status: 400 },
      { name: 'bad doneAt', result: await postReceipts({ ...good, doneAt: 'yesterday' }), status: 400 },
      { name: 'empty array', result: await postReceipts([]), status: 400 },
      { name: 'not JSON', result: await postReceipts(undefined, { raw: 'stat=DELIVRD', contentType: 'text/plain' }), status: 415 },
    ];
    for (const c of cases) {
      assert.equal(c.result.status, c.status, c.name);
      assert.match(c.result.type, /application\/problem\+json/, c.name);
    }
    assert.deepEqual(
      (cases[4]!.result.json.errors as { field: string }[]).map((e) => e.field),
      ['status'],
    );
    // Nothing of the refused requests was applied; the service still takes the good one.
    await sleep(300);
    assert.equal(statusesOf(messageId).filter((e) => e.payload.status === 'delivered').length, 0);
    assert.equal((await postReceipts(good)).status, 200);
    await waitForStatus(messageId, 'delivered');
    assert.ok((await counter('dlr_http_receipt_requests_total', 'outcome="bad_signature"')) >= 2);
    assert.ok((await counter('dlr_http_receipt_requests_total', 'outcome="malformed"')) >= 4);
    assert.ok((await counter('dlr_http_receipt_requests_total', 'outcome="unknown_carrier"')) >= 1);
  });

  void test('a receipt from a carrier id nobody submitted to is held, then parked, and the consumer carries on', async () => {
    const stranger = `unknown-carrier-${suffix}`;
    const [envelope] = await publisher.publish(DlrReceivedV1, [
      {
        tenantId: UNKNOWN_TENANT,
        payload: { carrierId: stranger, carrierMessageId: 'X1', text: receiptText('X1', 'DELIVRD'), receivedAt: new Date().toISOString() },
      },
    ]);
    await eventually(
      async () => (await sql<{ parked: boolean }>('SELECT parked FROM pending_receipts WHERE event_id = $1', [envelope!.eventId]))[0]?.parked,
      15_000,
      'unknown carrier receipt parked',
    );
    const { messageId, carrierIds } = newIds(1);
    await publishSubmitted(messageId, carrierIds);
    await publishReceipt(carrierIds[0]!, receiptText(carrierIds[0]!, 'DELIVRD'));
    await waitForStatus(messageId, 'delivered');
  });

  void test('the expiry sweep reads open messages through the partial index, however many are final', async (t) => {
    await sql(
      `INSERT INTO messages (message_id, tenant_id, carrier_id, traffic_class, total_parts, status, sequence, valid_until,
                             accepted_at, submitted_at, final_at)
       SELECT gen_random_uuid(), 'explain', $1, 'otp', 1, 'delivered', 3, now() - interval '1 day', now(), now(), now()
       FROM generate_series(1, 20000)`,
      [carrierId],
    );
    await sql('ANALYZE messages');
    const plan = (await sql<{ 'QUERY PLAN': string }>(`EXPLAIN ${EXPIRE_OVERDUE_SQL}`, [0, 500, 'x'])).map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, /Index Scan using messages_open_by_validity on messages/, plan);
    assert.doesNotMatch(plan, /Seq Scan on messages/, plan);
    t.diagnostic(plan);
    await sql(`DELETE FROM messages WHERE tenant_id = 'explain'`);
  });
});
