import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { newMessageId, type DispatchPayload } from '@sms/contracts';
import { ROOT_CONTEXT, trace } from '@sms/telemetry';
import { contractCheckingPublisher } from '@sms/testing';
import type { CarrierRegistry } from '../infra/carrier-registry.js';
import type { RetryScheduler } from '../infra/retry-scheduler.js';
import type { SubmitLedgerRepository } from '../infra/submit-ledger.repository.js';
import { DispatchService, concatReference } from './dispatch.service.js';

test('the concatenation reference is the same on every attempt of a message, and fits its scheme', () => {
  fc.assert(
    fc.property(fc.uuid(), (messageId) => {
      const r8 = concatReference(messageId, 'udh8');
      const r16 = concatReference(messageId, 'udh16');
      return r8 === concatReference(messageId, 'udh8') && r16 === concatReference(messageId, 'udh16') && r8 >= 0 && r8 < 256 && r16 >= 0 && r16 < 65536;
    }),
  );
});

test('different messages usually get different references', () => {
  const refs = new Set(Array.from({ length: 200 }, (_, i) => concatReference(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'udh16')));
  assert.ok(refs.size > 190);
});

test('a part accepted with an empty message_id is published as submitted under an unidentified id, not failed on every redelivery', async () => {
  const messageId = newMessageId();
  const payload: DispatchPayload = {
    to: '+447700900123',
    from: 'ACME',
    body: 'hello',
    trafficClass: 'transactional',
    encoding: 'GSM-7',
    segments: 1,
    validUntil: new Date(Date.now() + 3_600_000).toISOString(),
    acceptedAt: new Date().toISOString(),
    sandbox: false,
    carrierId: 'sim',
    routeId: 'default',
    attempt: 1,
    routedAt: new Date().toISOString(),
  };
  const route = {
    carrier: { protocol: 'smpp' },
    plan: () => ({ total: 1, parts: [{ index: 0, request: { kind: 'smpp', pdu: {} } }] }),
    // The carrier accepted the part (command_status 0) but sent no message id.
    submit: async () => ({ messageId: '' }),
  };
  const recorded: unknown[] = [];
  const ledger = {
    findByMessages: async () => [],
    claim: async (parts: { messageId: string; partIndex: number }[]) =>
      new Set(parts.map((p) => `${p.messageId}/${p.partIndex}`)),
    recordSoon: async (outcome: unknown) => void recorded.push(outcome),
  } as unknown as SubmitLedgerRepository;
  const { publisher, published } = contractCheckingPublisher();
  const unidentified: string[] = [];
  const service = new DispatchService(
    { get: () => route } as unknown as CarrierRegistry,
    ledger,
    publisher,
    { schedule: async () => undefined, retriesSoFar: async () => new Map() } as unknown as RetryScheduler,
    { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 100 },
    { onUnidentifiedSubmit: (carrierId) => unidentified.push(carrierId) },
  );
  const event = {
    envelope: {
      eventId: newMessageId(),
      type: 'sms.dispatch',
      version: 1,
      occurredAt: new Date().toISOString(),
      tenantId: 't1',
      messageId,
      payload,
    },
    topic: 'sms.internal.dispatch.transactional.v1',
    partition: 0,
    offset: '0',
    context: ROOT_CONTEXT,
    span: trace.getTracer('test').startSpan('process'),
  };

  await service.dispatch([event]);

  assert.deepEqual(recorded, [
    { messageId, partIndex: 0, state: 'submitted', carrierMessageId: `unidentified:${messageId}:0` },
  ]);
  assert.equal(published.length, 1);
  assert.equal(published[0]!.topic, 'sms.internal.submitted.v1');
  assert.equal(
    (published[0]!.payload as { parts: { carrierMessageId: string }[] }).parts[0]!.carrierMessageId,
    `unidentified:${messageId}:0`,
  );
  assert.deepEqual(unidentified, ['sim']);
});
