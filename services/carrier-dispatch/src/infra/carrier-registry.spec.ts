import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayFile } from '@sms/config';
import type { EventPublisher } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { Registry } from '@sms/telemetry';
import { CarrierRegistry } from './carrier-registry.js';

const file = parseGatewayFile(`
carriers:
  - id: a
    protocol: smpp
    mps: 600
    smpp: { host: 127.0.0.1, port: 1, systemId: x, password: y, binds: { otp: 1, transactional: 1, promotional: 0 } }
  - id: b
    protocol: smpp
    mps: 90
    smpp: { host: 127.0.0.1, port: 1, systemId: x, password: y, binds: { otp: 0, transactional: 0, promotional: 2 } }
routes:
  - id: default
    carriers: [a, b]
`);
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;

test("each carrier's mps share follows the partitions this replica owns of the lanes the carrier serves", async () => {
  const registry = new CarrierRegistry(
    file,
    { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeout: 1000 },
    {} as EventPublisher,
    logger,
    new Registry(),
    () => undefined,
  );
  try {
    assert.equal(registry.limiter('a')!.ceilingMps, 600, 'alone until the first assignment');
    registry.applyOwnership({ otp: { owned: 6, total: 6 }, transactional: { owned: 2, total: 6 }, promotional: { owned: 3, total: 6 } });
    // a serves otp + transactional: (6 + 2) / 12 of 600; b serves promotional only: 3 / 6 of 90.
    assert.equal(registry.limiter('a')!.ceilingMps, 400);
    assert.equal(registry.limiter('b')!.ceilingMps, 45);
  } finally {
    await registry.stop();
  }
});
