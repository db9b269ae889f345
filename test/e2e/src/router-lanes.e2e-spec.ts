import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AcceptedOtpV1, AcceptedPromotionalV1, DispatchOtpV1, DispatchPromotionalV1 } from '@sms/contracts';
import type { Kafka } from '@sms/kafka';
import type { Consumer } from 'kafkajs';
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
/** The accepted-topic backlog's recipient (also ends 0009: no receipts), so its submits are counted apart. */
const ACCEPTED_PROMO_NUMBER = '+447911980009';

/**
 * Lanes: a promotional backlog never delays an OTP. 20,000 promotional dispatches are queued on their lane
 * topic (produced straight to Kafka, as the router would), then an OTP is sent through the API. The OTP
 * reaches the carrier while most of the backlog is still waiting: the simulator's arrival index of the
 * OTP's submit counts the promotional submits that went before it.
 */
describe('lanes: an OTP overtakes a promotional backlog', { timeout: 300_000 }, () => {
  let stack: E2eStack;
  let kafka: Kafka;
  /** When each OTP was produced to the accepted and the dispatch topic (record time), for the diagnostics. */
  const produced = new Map<string, number>();
  let hops: Consumer | undefined;

  before(async () => {
    kafka = testKafka('e2e-router-lanes');
    await ensureTestTopics(kafka);
    stack = await startE2eStack();
    hops = kafka.consumer({ groupId: `${stack.groupPrefix}.hops`, maxWaitTimeInMs: 50 });
    await hops.connect();
    await hops.subscribe({ topics: [AcceptedOtpV1.topic, DispatchOtpV1.topic], fromBeginning: false });
    await hops.run({
      eachMessage: async ({ topic, message }) => void produced.set(`${topic} ${message.key?.toString() ?? ''}`, Number(message.timestamp)),
    });
  });

  after(async () => {
    await hops?.disconnect();
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
    const { id, acceptedAt: acceptedAtIso } = (await response.json()) as { id: string; acceptedAt: string };
    const otp = await eventually(async () => (await submits(otpNumber.slice(1))).submits[0], 60_000, 'the OTP at the carrier');
    const view = (await (await stack.api(`/v1/messages/${id}`)).json()) as { history: { status: string; occurredAt: string }[] };
    const hop = (topic: string) => {
      const at = produced.get(`${topic} ${id}`);
      return at === undefined ? '?' : `+${at - acceptedAt}`;
    };
    return {
      otp,
      acceptedAt,
      /** Record times of the OTP on its accepted and dispatch topics, relative to the 202. */
      hops: `accepted topic ${hop(AcceptedOtpV1.topic)} ms, dispatch topic ${hop(DispatchOtpV1.topic)} ms, carrier +${Math.round(otp.receivedAt - acceptedAt)} ms`,
      /** Ingest's acceptance time (it precedes the 202). */
      ingestAcceptedAt: Date.parse(acceptedAtIso),
      history: view.history.map((h) => `${h.status} +${Date.parse(h.occurredAt) - acceptedAt} ms`).join(', '),
    };
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

  test('with 20,000 promotional messages queued at the router, an OTP sent afterwards reaches the carrier within 1 s', async (t) => {
    // The previous test's dispatch backlog drains first, so every submit counted below is this test's.
    await eventually(async () => ((await submits(PROMO_NUMBER.slice(1))).count >= BACKLOG ? true : undefined), 120_000, 'the dispatch backlog drained');
    // Accepted events, as ingest's relay publishes them: each one still has to be routed (the router's
    // promotional consumer group), then dispatched (carrier-dispatch's promotional lane).
    // The router's event-loop delay over the flood (prom-client resets its window at each scrape).
    const routerLoopMax = async () => {
      const text = await (await fetch(`http://127.0.0.1:${stack.ports.router}/metrics`)).text();
      return Number(/^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? NaN) * 1000;
    };
    await routerLoopMax();
    const submitsBefore = ((await (await fetch(`http://127.0.0.1:${stack.ports.simulatorHttp}/submits?limit=0`)).json()) as { count: number }).count;
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
              type: AcceptedPromotionalV1.type,
              version: AcceptedPromotionalV1.version,
              occurredAt: now,
              tenantId: 'demo',
              messageId,
              payload: {
                to: ACCEPTED_PROMO_NUMBER,
                from: 'ACME',
                body: 'Winter sale: 30% off everything this weekend',
                trafficClass: 'promotional',
                encoding: 'GSM-7',
                segments: 1,
                validUntil: new Date(Date.now() + 3_600_000).toISOString(),
                acceptedAt: now,
                sandbox: false,
              },
            }),
          };
        });
        await producer.send({ topic: AcceptedPromotionalV1.topic, messages, acks: -1 });
      }
    } finally {
      await producer.disconnect();
    }
    t.diagnostic(`queued ${BACKLOG} promotional accepted events in ${Date.now() - queuedAt} ms`);

    const { otp, ingestAcceptedAt, history, hops: otpHops } = await sendOtp();
    const latency = Math.round(otp.receivedAt - ingestAcceptedAt);
    const loopMax = await routerLoopMax();
    const promotional = await submits(ACCEPTED_PROMO_NUMBER.slice(1));
    // Only the backlog reaches the simulator between the count taken before queueing and the OTP (indexes
    // count from 0 in arrival order).
    const before = otp.index - submitsBefore;
    t.diagnostic(
      `OTP at the carrier ${latency} ms after ingest accepted it; after its 202: ${otpHops}; history ${history}; ` +
        `${before} backlog submits before it, ${promotional.count} by the time it was checked; router event-loop delay max ${Math.round(loopMax)} ms`,
    );
    assert.ok(latency < 1000, `the OTP reached the carrier ${latency} ms after acceptance`);
    // Not vacuous: when the OTP arrived, the backlog was still being worked off.
    assert.ok(before < BACKLOG, `all ${BACKLOG} promotional messages reached the carrier before the OTP`);
    assert.ok(promotional.count < BACKLOG, `the backlog had drained (${promotional.count}) by the time the OTP was checked`);
  });
});
