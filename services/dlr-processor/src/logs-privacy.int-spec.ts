import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEAD_LETTER_TOPIC,
  DlrReceivedV1,
  StatusChangedV1,
  SubmittedV1,
  UNKNOWN_TENANT,
  type StatusChangedPayload,
} from '@sms/contracts';
import type { EventPublisher, Kafka } from '@sms/kafka';
import { commitGroupAtTopicEnds, connectedPublisher, createTestDatabase, ensureTestTopics, eventually, testKafka, TopicProbe, uniqueSuffix } from '@sms/testing';

/**
 * Privacy of the logs: the built service (dist/main.js) runs as a child process at LOG_LEVEL=debug and is
 * fed receipts whose text carries a phone number and a message body (garbage, the `text:` echo, an unknown
 * carrier id, an event that breaks its contract, HTTP callbacks with a bad signature or a malformed body).
 * Not one log line may contain the number or the text.
 */
const PHONE = '+4915112345678';
const DIGITS = PHONE.slice(1);
const BODY = 'Your login code is 845217';

describe('dlr-processor logs carry no phone number and no message body', { timeout: 120_000 }, () => {
  const suffix = uniqueSuffix();
  const prefix = `it-dlr-logs-${suffix}`;
  const carrierId = `logs-carrier-${suffix}`;
  const secret = 'a-http-carrier-secret-of-some-length';
  let kafka: Kafka;
  let publisher: EventPublisher;
  let statuses: TopicProbe<StatusChangedPayload>;
  let deadLetters: TopicProbe<unknown>;
  let database: { url: string; drop(): Promise<void> };
  let child: ChildProcess;
  let httpUrl: string | undefined;
  const logs: string[] = [];

  before(async () => {
    kafka = testKafka('dlr-logs-it');
    await ensureTestTopics(kafka);
    database = await createTestDatabase('dlr_logs');
    await commitGroupAtTopicEnds(kafka, `${prefix}.dlr-processor`, [SubmittedV1.topic, DlrReceivedV1.topic]);
    publisher = await connectedPublisher(kafka);
    statuses = await new TopicProbe(kafka, StatusChangedV1).start();
    deadLetters = await new TopicProbe<unknown>(kafka, DEAD_LETTER_TOPIC).start();
    child = spawn(process.execPath, [fileURLToPath(new URL('./main.js', import.meta.url))], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        KAFKA_GROUP_PREFIX: prefix,
        HTTP_PORT: '0',
        LOG_LEVEL: 'debug',
        GATEWAY_MODE: 'test',
        DLR_HTTP_CARRIER_SECRETS: `${carrierId}=${secret}`,
        DLR_PENDING_RECEIPT_TTL_MS: '500',
        DLR_SWEEP_INTERVAL_MS: '200',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = createWriteStream(join(tmpdir(), `${prefix}.log`));
    const collect = (chunk: Buffer) => {
      file.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        logs.push(line);
        if (line.includes('dlr-processor started')) httpUrl = (JSON.parse(line) as { url: string }).url.replace('[::1]', '127.0.0.1');
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    await eventually(() => httpUrl, 30_000, 'dlr-processor started');
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await statuses?.stop();
    await deadLetters?.stop();
    await publisher?.disconnect();
    await database?.drop();
  });

  it('handles receipts and callbacks full of numbers and text without logging them', async () => {
    const messageId = randomUUID();
    const cid = `${suffix}A1`.toUpperCase();
    await publisher.publish(SubmittedV1, [
      {
        tenantId: 'tenant-logs',
        messageId,
        payload: {
          carrierId,
          trafficClass: 'otp',
          parts: [{ index: 0, carrierMessageId: cid, submittedAt: new Date().toISOString() }],
          totalParts: 1,
          acceptedAt: new Date().toISOString(),
          validUntil: new Date(Date.now() + 3_600_000).toISOString(),
        },
      },
    ]);
    const receipt = (carrierMessageId: string, text: string) => ({
      tenantId: UNKNOWN_TENANT,
      payload: { carrierId, carrierMessageId, text, receivedAt: new Date().toISOString() },
    });
    await publisher.publish(DlrReceivedV1, [
      receipt(cid, `id:${cid} sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:${BODY} ${PHONE}`),
      receipt(`${suffix}GARBAGE`, `${PHONE} ${BODY} not a receipt at all`),
      receipt(`${suffix}UNKNOWN`, `id:${suffix}UNKNOWN stat:UNDELIV err:001 text:${BODY} to ${PHONE}`),
    ]);
    // Breaks the contract (text too long, no envelope): dead-lettered with a reason, its value not logged.
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({
      topic: DlrReceivedV1.topic,
      messages: [{ key: `${carrierId}:${suffix}RAW`, value: JSON.stringify({ payload: { carrierId, text: `${PHONE} ${BODY} `.repeat(60) } }) }],
    });
    await raw.disconnect();
    const refused = await fetch(`${httpUrl}/v1/carriers/${carrierId}/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-carrier-timestamp': String(Math.floor(Date.now() / 1000)), 'x-carrier-signature': 'sha256=00' },
      body: JSON.stringify({ carrierMessageId: PHONE, status: 'delivered', note: BODY }),
    });
    assert.equal(refused.status, 401);
    const malformed = await fetch(`${httpUrl}/v1/carriers/${carrierId}/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"carrierMessageId":"${PHONE}","status":"${BODY}"`,
    });
    assert.ok(malformed.status >= 400 && malformed.status < 500);

    await statuses.waitFor((e) => e.messageId === messageId && e.payload.status === 'delivered', 30_000, 'delivered');
    await eventually(() => logs.some((l) => l.includes('event dead-lettered')) || undefined, 30_000, 'the malformed event dead-lettered');
    // Held receipts are parked after 500 ms: the sweep that parks them logs too.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(logs.length > 0);
    const leaks = logs.filter((l) => l.includes(DIGITS) || l.includes('845217'));
    assert.deepEqual(leaks, []);
  });
});
