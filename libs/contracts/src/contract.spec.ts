import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AcceptedTransactionalV1, acceptedTopicByLane, isAcceptedTopic, DlrReceivedV1, topicSpecs, validateEnvelope, allContracts, dispatchFailedTopicByLane } from './index.js';

const validAccepted = () => ({
  eventId: randomUUID(),
  type: 'sms.accepted',
  version: 1,
  occurredAt: new Date().toISOString(),
  tenantId: 'acme',
  messageId: randomUUID(),
  payload: {
    to: '+447700900001',
    from: 'ACME',
    body: 'hello',
    trafficClass: 'otp',
    encoding: 'GSM-7',
    segments: 1,
    validUntil: new Date().toISOString(),
    acceptedAt: new Date().toISOString(),
    sandbox: false,
  },
});

describe('event contracts', () => {
  test('a valid accepted event passes', () => {
    assert.equal(validateEnvelope(AcceptedTransactionalV1, validAccepted()).ok, true);
  });

  test('a bad phone number is a schema violation naming the field', () => {
    const event = validAccepted();
    event.payload.to = '0044 7700';
    const result = validateEnvelope(AcceptedTransactionalV1, event);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.reason === 'schema_violation');
    assert.ok(!result.ok && result.issues.some((i) => i.path === 'payload.to'));
  });

  test('an event of another type on the topic is refused', () => {
    const event = { ...validAccepted(), type: 'sms.submitted' };
    const result = validateEnvelope(AcceptedTransactionalV1, event);
    assert.ok(!result.ok && result.reason === 'wrong_event_type');
  });

  test('a message event without a message id is refused', () => {
    const { messageId: _omit, ...event } = validAccepted();
    const result = validateEnvelope(AcceptedTransactionalV1, event);
    assert.ok(!result.ok && result.reason === 'missing_message_id');
  });

  test('receipts are keyed by carrier and carrier message id', () => {
    const envelope = {
      eventId: randomUUID(),
      type: 'sms.dlr-received',
      version: 1,
      occurredAt: new Date().toISOString(),
      tenantId: '_carrier',
      payload: { carrierId: 'sim', carrierMessageId: 'ab12', text: 'x', receivedAt: new Date().toISOString() },
    };
    const result = validateEnvelope(DlrReceivedV1, envelope);
    assert.ok(result.ok);
    assert.equal(DlrReceivedV1.keyOf(result.envelope), 'sim:ab12');
  });

  test('each lane has its own accepted topic; the pre-lanes topic is still recognised for old outbox rows', () => {
    const topics = Object.values(acceptedTopicByLane).map((c) => c.topic);
    assert.deepEqual(topics, ['sms.internal.accepted.otp.v1', 'sms.internal.accepted.transactional.v1', 'sms.internal.accepted.promotional.v1']);
    for (const topic of [...topics, 'sms.internal.accepted.v1']) assert.equal(isAcceptedTopic(topic), true, topic);
    assert.equal(isAcceptedTopic('sms.internal.dispatch.otp.v1'), false);
  });

  test('each lane has its own dispatch-failed topic, and the single pre-lanes one is no longer provisioned', () => {
    const topics = Object.values(dispatchFailedTopicByLane).map((c) => c.topic);
    assert.deepEqual(topics, ['sms.internal.dispatch-failed.otp.v1', 'sms.internal.dispatch-failed.transactional.v1', 'sms.internal.dispatch-failed.promotional.v1']);
    const provisioned = topicSpecs().map((s) => s.topic);
    for (const topic of topics) assert.ok(provisioned.includes(topic), topic);
    assert.equal(provisioned.includes('sms.internal.dispatch-failed.v1'), false);
  });

  test('every topic name is versioned and unique, and provisioning covers them all', () => {
    const names = allContracts.map((c) => c.topic);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^sms\.(public|internal)\.[a-z.-]+\.v\d+$/);
    assert.equal(topicSpecs().length, names.length + 1);
    assert.ok(topicSpecs().some((s) => s.configEntries.some((e) => e.value === 'compact')));
  });
});
