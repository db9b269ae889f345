import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DispatchPromotionalV1 } from '@sms/contracts';
import type { Kafka } from '@sms/kafka';
import { ensureTestTopics, eventually, testKafka } from '@sms/testing';
import { startE2eStack, type E2eStack } from './harness.js';

interface SubmitRecord {
  index: number;
  receivedAt: number;
  destinationAddr: string;
}

const BACKLOG = 20_000;
/** Last four digits 0009: the simulator accepts and never sends a receipt (no receipt load from the backlog). */
const PROMO_NUMBER = '+447911990009';

/**
 * Lanes: a promotional backlog never delays an OTP. 20,000 promotional dispatches are queued on their lane
 * topic (produced straight to Kafka, as the router would), then an OTP is sent through the API. The OTP
 * reaches the carrier while most of the backlog is still waiting: the simulator's arrival index of the
 * OTP's submit counts the promotional submits that went before it.
 */
describe('lanes: an OTP overtakes a promotional backlog', { timeout: 300_000 }, () => {
  let stack: E2eStack;
  let kafka: Kafka;

  before(async () => {
    kafka = testKafka('e2e-router-lanes');
    await ensureTestTopics(kafka);
    stack = await startE2eStack();
  });

  after(async () => {
    await stack?.gateway.stop();
  });

  const submits = async (destination: string) => {
    const response = await fetch(`http://127.0.0.1:${stack.ports.simulatorHttp}/submits?destination=${encodeURIComponent(destination)}&limit=5`);
    return (await response.json()) as { count: number; submits: SubmitRecord[] };
  };

  const sendOtp = async () => {
    const otpNumber = `+4479118${String(Math.floor(Math.random() * 90_000) + 10_000)}`;
    const response = await stack.api('/v1/messages', {
      method: 'POST',
      json: { to: otpNumber, from: 'ACME', body: 'Your code is 123456', trafficClass: 'otp' },
    });
    assert.equal(response.status, 202);
    const acceptedAt = Date.now();
    const { id } = (await response.json()) as { id: string };
    const otp = await eventually(async () => (await submits(otpNumber.slice(1))).submits[0], 60_000, 'the OTP at the carrier');
    const view = (await (await stack.api(`/v1/messages/${id}`)).json()) as { history: { status: string; occurredAt: string }[] };
    return { otp, acceptedAt, history: view.history.map((h) => `${h.status} +${Date.parse(h.occurredAt) - acceptedAt} ms`).join(', ') };
  };

  test('with 20,000 promotional messages queued, an OTP sent afterwards is submitted before most of them', async (t) => {
    // One OTP first, on the idle stack: binds up, consumers joined; its latency is the baseline.
    const warm = await sendOtp();
    t.diagnostic(`idle stack: OTP at the carrier ${Math.round(warm.otp.receivedAt - warm.acceptedAt)} ms after its 202`);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const queuedAt = Date.now();
    try {
      for (let sent = 0; sent < BACKLOG; sent += 2000) {
        const messages = Array.from({ length: Math.min(2000, BACKLOG - sent) }, () => {
          const messageId = randomUUID();
          const now = new Date().toISOString();
          return {
            key: messageId,
            value: JSON.stringify({
              eventId: randomUUID(),
              type: DispatchPromotionalV1.type,
              version: DispatchPromotionalV1.version,
              occurredAt: now,
              tenantId: 'demo',
              messageId,
              payload: {
                to: PROMO_NUMBER,
                from: 'ACME',
                body: 'Spring sale: 20% off everything this weekend',
                trafficClass: 'promotional',
                encoding: 'GSM-7',
                segments: 1,
                validUntil: new Date(Date.now() + 3_600_000).toISOString(),
                acceptedAt: now,
                sandbox: false,
                carrierId: 'simulator',
                routeId: 'default',
                attempt: 1,
                routedAt: now,
              },
            }),
          };
        });
        await producer.send({ topic: DispatchPromotionalV1.topic, messages, acks: -1 });
      }
    } finally {
      await producer.disconnect();
    }
    t.diagnostic(`queued ${BACKLOG} promotional dispatches in ${Date.now() - queuedAt} ms`);

    const { otp, acceptedAt, history } = await sendOtp();
    const promotionalBefore = otp.index - 1; // a fresh simulator: every earlier submit but the warm-up OTP is from the backlog
    const promotionalNow = (await submits(PROMO_NUMBER.slice(1))).count;
    t.diagnostic(
      `OTP at the carrier ${Math.round(otp.receivedAt - acceptedAt)} ms after its 202; history ${history}; ` +
        `${promotionalBefore} promotional submits before it, ${promotionalNow} by the time it was checked`,
    );
    // At 5,000 msg/s (the simulator carrier's mps) the backlog takes at least 4 s to drain; an OTP waiting in
    // the same queue would come after all 20,000.
    assert.ok(promotionalBefore < BACKLOG / 2, `the OTP came after ${promotionalBefore} of ${BACKLOG} promotional messages`);
  });
});
