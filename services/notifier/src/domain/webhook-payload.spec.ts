import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventEnvelope, StatusChangedPayload } from '@sms/contracts';
import { buildWebhookPayload, serializeWebhookBody, webhookIdOf } from './webhook-payload.js';

const envelope: EventEnvelope<StatusChangedPayload> = {
  eventId: '0b6f3f5e-8f7a-4a57-9f55-2f1d7f0c9a11',
  type: 'sms.status-changed',
  version: 1,
  occurredAt: '2025-01-02T03:04:05.000Z',
  tenantId: 'tenant-a',
  messageId: '7d9f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
  payload: {
    status: 'delivered',
    reason: { code: 'delivered', carrierCode: 'DELIVRD' },
    sequence: 4,
    parts: { total: 2, delivered: 2, failed: 0 },
    carrierId: 'sim',
    routeId: 'r1',
    trafficClass: 'otp',
    changedAt: '2025-01-02T03:04:04.000Z',
    reference: 'order-1',
    callbackUrl: 'https://hooks.example.com/sms?token=secret',
  },
};

describe('webhook payload', () => {
  it('carries the status and nothing private', () => {
    const payload = buildWebhookPayload(envelope);
    assert.deepEqual(payload, {
      type: 'message.status_changed',
      timestamp: '2025-01-02T03:04:05.000Z',
      data: {
        messageId: envelope.messageId,
        status: 'delivered',
        reason: { code: 'delivered', message: null, carrierCode: 'DELIVRD' },
        sequence: 4,
        parts: { total: 2, delivered: 2, failed: 0 },
        carrierId: 'sim',
        reference: 'order-1',
        changedAt: '2025-01-02T03:04:04.000Z',
      },
    });
    const body = serializeWebhookBody(payload);
    assert.doesNotMatch(body, /callback|token|routeId|trafficClass/);
  });

  it('absent fields are null', () => {
    const bare = buildWebhookPayload({ ...envelope, payload: { status: 'failed', sequence: 2, changedAt: envelope.payload.changedAt } });
    assert.equal(bare.data.reason, null);
    assert.equal(bare.data.parts, null);
    assert.equal(bare.data.carrierId, null);
    assert.equal(bare.data.reference, null);
  });

  it('serialises in a fixed key order whatever order the stored jsonb has', () => {
    const payload = buildWebhookPayload(envelope);
    const shuffled = JSON.parse(JSON.stringify({ data: { ...payload.data }, timestamp: payload.timestamp, type: payload.type })) as typeof payload;
    const body = serializeWebhookBody(shuffled);
    assert.equal(body, serializeWebhookBody(payload));
    assert.deepEqual(Object.keys(JSON.parse(body) as object), ['type', 'timestamp', 'data']);
  });

  it('has a body key only when the tenant opted in (null when the body is not known)', () => {
    const payload = buildWebhookPayload(envelope);
    assert.equal('body' in (JSON.parse(serializeWebhookBody(payload)) as { data: object }).data, false);
    const withBody = JSON.parse(serializeWebhookBody(payload, { text: 'Hi there' })) as { data: Record<string, unknown> };
    assert.equal(withBody.data.body, 'Hi there');
    assert.equal(Object.keys(withBody.data).at(-1), 'body');
    assert.equal((JSON.parse(serializeWebhookBody(payload, { text: null })) as { data: Record<string, unknown> }).data.body, null);
  });

  it('webhook id is stable per status event', () => {
    assert.equal(webhookIdOf(envelope.eventId), `msg_${envelope.eventId}`);
  });
});
