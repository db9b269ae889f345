import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '@sms/platform';
import type { SmppDeliver } from '@sms/smpp';
import { contractCheckingPublisher } from '@sms/testing';
import { ReceiptForwarder } from './receipt-forwarder.js';

const logs: string[] = [];
const logger = {
  warn: (_: unknown, msg: string) => logs.push(msg),
  error: (_: unknown, msg: string) => logs.push(msg),
  info: () => undefined,
} as unknown as Logger;

function deliver(overrides: Partial<SmppDeliver>): SmppDeliver {
  return {
    command: 'deliver_sm',
    sequenceNumber: 1,
    serviceType: '',
    esmClass: 0x04,
    sourceAddr: '447700900123',
    sourceTon: 1,
    sourceNpi: 1,
    destinationAddr: 'ACME',
    destTon: 5,
    destNpi: 0,
    protocolId: 0,
    registeredDelivery: 0,
    dataCoding: 0,
    shortMessage: Buffer.from(
      'id:abc123 sub:001 dlvrd:001 submit date:2612050620 done date:2612050621 stat:DELIVRD err:000 text:hi',
    ),
    tlvs: new Map(),
    isReceipt: true,
    receivedAt: new Date('2026-12-05T07:00:00Z'),
    ...overrides,
  };
}

test('a receipt or MO its event cannot carry is dropped (logged, counted); the others are still published', async () => {
  const { publisher, published, calls } = contractCheckingPublisher();
  const forwarder = new ReceiptForwarder(publisher, logger, 60_000);
  const dropped: string[] = [];
  forwarder.onDropped = (kind) => dropped.push(kind);

  forwarder.accept('sim', deliver({ receiptedMessageId: 'AB-0001' }));
  forwarder.accept('sim', deliver({ receiptedMessageId: 'x'.repeat(129) })); // over the event's 128
  forwarder.accept('sim', deliver({ receiptedMessageId: '   ' })); // blank once normalised
  forwarder.accept(
    'sim',
    deliver({ isReceipt: false, esmClass: 0, shortMessage: Buffer.from('STOP'), sourceAddr: '4'.repeat(40) }),
  );
  forwarder.accept('sim', deliver({ isReceipt: false, esmClass: 0, shortMessage: Buffer.from('STOP') }));

  // Without the checks the first publish would throw and the forwarder would retry it for ever.
  await Promise.race([
    forwarder.flush(),
    new Promise((_, reject) => setTimeout(() => reject(new Error('flush never ended')), 2000).unref()),
  ]);
  assert.equal(calls(), 1);
  assert.deepEqual(
    published.map((p) => [
      p.topic,
      (p.payload as { carrierMessageId?: string; from?: string }).carrierMessageId ??
        (p.payload as { from: string }).from,
    ]),
    [
      ['sms.internal.dlr-received.v1', 'ab-0001'],
      ['sms.internal.mo-received.v1', '447700900123'],
    ],
  );
  assert.deepEqual(dropped, ['receipt', 'receipt', 'mo']);
  assert.equal(logs.length, 3);
});
