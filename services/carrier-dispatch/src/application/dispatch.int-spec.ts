import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseGatewayFile } from '@sms/config';
import { DispatchOtpV1, type DispatchPayload } from '@sms/contracts';
import type { ConsumedEvent, EventPublisher } from '@sms/kafka';
import { openServiceDatabase, type Logger } from '@sms/platform';
import { contextFromTraceparent, Registry, trace } from '@sms/telemetry';
import { TopicProbe, connectedPublisher, createTestDatabase, ensureTestTopics, eventually, testKafka } from '@sms/testing';
import type { DataSource } from 'typeorm';
import { CarrierRegistry } from '../infra/carrier-registry.js';
import { CarrierDispatchInit1764000000000 } from '../infra/migrations/1764000000000-carrier-dispatch-init.js';
import { DispatchRetries1764100000000 } from '../infra/migrations/1764100000000-dispatch-retries.js';
import { RetryTraceparent1764200000000 } from '../infra/migrations/1764200000000-retry-traceparent.js';
import { RetryScheduler } from '../infra/retry-scheduler.js';
import { SubmitLedgerRepository } from '../infra/submit-ledger.repository.js';
import { DispatchService } from './dispatch.service.js';

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;

/**
 * The dispatch service on real PostgreSQL, Kafka and an HTTP carrier on real HTTP (a small server whose
 * answers the test controls): ledger outcomes are written per part as answers arrive, and retries keep the
 * message's trace.
 */
describe('DispatchService on real PostgreSQL, Kafka and HTTP', () => {
  let db: DataSource;
  let drop: () => Promise<void>;
  let publisher: EventPublisher;
  let server: http.Server;
  let registry: CarrierRegistry;
  let service: DispatchService;
  let scheduler: RetryScheduler;
  const kafka = testKafka('carrier-dispatch-int');
  /** Destinations whose answer waits until the test releases it. */
  const held = new Map<string, () => void>();
  const answerWith = new Map<string, number>();

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { to } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string };
        const answer = () => {
          const status = answerWith.get(to) ?? 200;
          const body = status === 200 ? { messageId: randomBytes(5).toString('hex') } : { error: { code: 'TEMPORARY' } };
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        };
        if (to.endsWith('9'))
          held.set(to, () => {
            held.delete(to);
            answer();
          });
        else answer();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const file = parseGatewayFile(
      `carriers:\n  - id: web\n    protocol: http\n    http: { url: "http://127.0.0.1:${(server.address() as AddressInfo).port}/sms" }\nroutes:\n  - { id: r, carriers: [web] }\n`,
    );
    const database = await createTestDatabase('cd_dispatch');
    drop = database.drop;
    db = await openServiceDatabase({
      url: database.url,
      schema: 'carrier_dispatch',
      migrations: [CarrierDispatchInit1764000000000, DispatchRetries1764100000000, RetryTraceparent1764200000000],
      applicationName: 'carrier-dispatch-int',
    });
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
    registry = new CarrierRegistry(file, { errorThresholdPercentage: 50, volumeThreshold: 100, resetTimeout: 1000 }, publisher, logger, new Registry(), () => undefined);
    scheduler = new RetryScheduler(db, publisher, logger, 100);
    service = new DispatchService(registry, new SubmitLedgerRepository(db), publisher, scheduler, { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 1 });
  });

  after(async () => {
    for (const answer of held.values()) answer();
    await registry?.stop();
    await publisher?.disconnect();
    await db?.destroy();
    await drop?.().catch(() => undefined);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  const event = (to: string, traceparent?: string): ConsumedEvent<DispatchPayload> => {
    const now = new Date();
    const context = contextFromTraceparent(traceparent);
    return {
      envelope: {
        eventId: randomUUID(),
        type: DispatchOtpV1.type,
        version: DispatchOtpV1.version,
        occurredAt: now.toISOString(),
        tenantId: 't1',
        messageId: randomUUID(),
        payload: {
          to,
          from: 'ACME',
          body: 'code 1234',
          trafficClass: 'otp',
          encoding: 'GSM-7',
          segments: 1,
          validUntil: new Date(now.getTime() + 600_000).toISOString(),
          acceptedAt: now.toISOString(),
          sandbox: false,
          carrierId: 'web',
          routeId: 'r',
          attempt: 1,
          routedAt: now.toISOString(),
        },
      },
      topic: DispatchOtpV1.topic,
      partition: 0,
      offset: '0',
      context,
      span: trace.getSpan(context) ?? trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }),
    };
  };
  const ledgerState = async (messageId: string): Promise<string | undefined> => {
    const rows: { state: string }[] = await db.query('SELECT state FROM submit_ledger WHERE message_id = $1', [messageId]);
    return rows[0]?.state;
  };

  test('a part is recorded submitted as soon as its answer arrives, while others of the batch are still in flight', async () => {
    const fast = event('+447700900101');
    const slow = event('+447700900109');
    const batch = service.dispatch([fast, slow]);
    // Before the batch ends: the answered part is already safe from a resend, the other is in flight.
    await eventually(async () => ((await ledgerState(fast.envelope.messageId!)) === 'submitted' ? true : undefined), 10000, 'fast part recorded');
    assert.equal(await ledgerState(slow.envelope.messageId!), 'in_flight');
    (await eventually(() => held.get('+447700900109'), 10000, 'slow request at the carrier'))();
    await batch;
    assert.equal(await ledgerState(slow.envelope.messageId!), 'submitted');
  });

  test('a retried dispatch is republished in the trace of the dispatch that failed', async () => {
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const to = '+447700900102';
    answerWith.set(to, 503);
    const probe = await new TopicProbe(kafka, DispatchOtpV1).start();
    try {
      const failing = event(to, traceparent);
      await service.dispatch([failing]);
      const rows: { traceparent: string | null; state: string }[] = await db.query('SELECT traceparent, state FROM dispatch_retries WHERE message_id = $1', [
        failing.envelope.messageId,
      ]);
      assert.equal(rows[0]?.state, 'scheduled');
      assert.equal(rows[0]?.traceparent?.split('-')[1], traceId);
      await eventually(async () => ((await scheduler.releaseDue()) > 0 ? true : undefined), 10000, 'retry released');
      const republished = await probe.waitForRaw((r) => r.value.includes(failing.envelope.messageId!), 15000);
      assert.equal(republished.headers.traceparent?.split('-')[1], traceId, 'the retry continues the original trace');
    } finally {
      await probe.stop();
    }
  });
});
