import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayFile } from '@sms/config';
import { DispatchOtpV1 } from '@sms/contracts';
import { BatchConsumer, silentLogger, type EventPublisher } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { Registry } from '@sms/telemetry';
import { connectedPublisher, ensureTestTopics, eventually, testKafka, uniqueSuffix } from '@sms/testing';
import { CarrierRegistry } from './carrier-registry.js';
import { LaneOwnership } from './lane-ownership.js';

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
const file = parseGatewayFile(`
carriers:
  - id: c
    protocol: http
    mps: 600
    http: { url: "http://127.0.0.1:1/sms", lanes: { otp: 5, transactional: 0, promotional: 0 } }
routes:
  - { id: default, carriers: [c] }
`);

/** One carrier-dispatch replica as far as the mps share goes: its OTP lane consumer, ownership and limiter. */
function replica(kafka: ReturnType<typeof testKafka>, groupId: string, publisher: EventPublisher) {
  const registry = new CarrierRegistry(file, { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeout: 1000 }, publisher, logger, new Registry(), () => undefined);
  const ownership = new LaneOwnership([{ lane: 'otp', topic: DispatchOtpV1.topic, partitions: DispatchOtpV1.partitions }], (owned) => registry.applyOwnership(owned));
  const consumer = new BatchConsumer(kafka, {
    groupId,
    subscriptions: [{ contract: DispatchOtpV1, handle: async () => undefined }],
    publisher,
    logger: silentLogger,
    fromBeginning: false,
    hooks: { onAssignment: (assignment) => ownership.onAssignment('otp', assignment) },
  });
  return { registry, ownership, consumer, ceiling: () => registry.limiter('c')!.ceilingMps, owned: () => ownership.shares().otp!.owned };
}

test("replicas in one group each take the carrier's mps share of the partitions they actually own", async () => {
  const kafka = testKafka('lane-ownership-int');
  await ensureTestTopics(kafka);
  const publisher = await connectedPublisher(kafka);
  const groupId = `ownership-${uniqueSuffix()}`;
  const a = replica(kafka, groupId, publisher);
  const b = replica(kafka, groupId, publisher);
  const c = replica(kafka, groupId, publisher);
  const d = replica(kafka, groupId, publisher);
  const total = DispatchOtpV1.partitions;
  try {
    await a.consumer.start();
    await eventually(() => (a.owned() === total && a.ceiling() === 600 ? true : undefined), 30000, 'a alone owns every partition');
    await b.consumer.start();
    // After the rebalance the two assignments partition the lane: together exactly all of it, and so the mps.
    await eventually(() => (a.owned() + b.owned() === total && a.owned() > 0 && b.owned() > 0 ? true : undefined), 60000, 'both own part of the lane');
    assert.equal(a.ceiling(), (600 * a.owned()) / total);
    assert.equal(b.ceiling(), (600 * b.owned()) / total);
    assert.equal(a.ceiling() + b.ceiling(), 600);
    // Four members over six partitions: 2/2/1/1 (partitions / members would say 1.5 each).
    await Promise.all([c.consumer.start(), d.consumer.start()]);
    const all = [a, b, c, d];
    await eventually(() => (all.reduce((n, r) => n + r.owned(), 0) === total && all.every((r) => r.owned() > 0) ? true : undefined), 60000, 'four members');
    assert.deepEqual(all.map((r) => r.owned()).sort(), [1, 1, 2, 2]);
    for (const r of all) assert.equal(r.ceiling(), (600 * r.owned()) / total);
    await Promise.all([b.consumer.stop(), c.consumer.stop(), d.consumer.stop()]);
    await eventually(() => (a.owned() === total && a.ceiling() === 600 ? true : undefined), 60000, 'a takes the whole lane back');
  } finally {
    for (const r of [a, b, c, d]) {
      await r.consumer.stop().catch(() => undefined);
      await r.registry.stop();
    }
    await publisher.disconnect();
  }
});
