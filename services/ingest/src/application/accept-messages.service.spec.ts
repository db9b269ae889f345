import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from 'typeorm';
import type { MessagesRepository, NewMessage } from '../infra/messages.repository.js';
import { messageIdTime } from '@sms/contracts';
import { validateBatchRequest } from '../domain/batch-request.js';
import { validateSendRequest } from '../domain/send-request.js';
import { AcceptMessagesService } from './accept-messages.service.js';

/** A repository that records which messages were committed together (one statement per group). */
function fakeRepository(options: { failGroup?: number } = {}) {
  const groups: string[][] = [];
  const repository = {
    insertAccepted: async (_tx: EntityManager | undefined, accepted: { messages: NewMessage[] }) => {
      await new Promise((r) => setTimeout(r, 5));
      groups.push(accepted.messages.map((r) => r.id));
      if (options.failGroup === groups.length) throw new Error('database down');
    },
  };
  return { repository: repository as unknown as MessagesRepository, groups };
}

/** A service whose repository records the rows of each insert. */
function recordingService() {
  const inserted: NewMessage[][] = [];
  const repository = {
    insertAccepted: async (_tx: EntityManager | undefined, accepted: { messages: NewMessage[] }) => void inserted.push(accepted.messages),
  } as unknown as MessagesRepository;
  return { service: new AcceptMessagesService(repository, 3600, () => undefined), inserted };
}

const valid = validateSendRequest({ to: '+447911123456', from: 'ACME', body: 'hi' }, { maxSegments: 10 });
assert.ok(valid.ok);
const input = { tenantId: 't', sandbox: false, message: valid.value, source: 'api' as const };

describe('group commit of single messages', () => {
  test('a lone message commits at once; concurrent ones share the next transaction', async () => {
    const { repository, groups } = fakeRepository();
    let commits = 0;
    const service = new AcceptMessagesService(repository, 3600, () => commits++, { maxInFlight: 1, maxGroup: 500 });
    const results = await Promise.all(Array.from({ length: 10 }, () => service.acceptOne(input)));
    assert.deepEqual(groups.map((g) => g.length), [1, 9]);
    assert.deepEqual(groups.flat(), results.map((r) => r.id), 'each caller gets its own message');
    assert.equal(commits, 2);
  });

  test('a parallel statement starts only for a sizeable group; small ones wait for the statement in flight', async () => {
    const { repository, groups } = fakeRepository();
    const service = new AcceptMessagesService(repository, 3600, () => undefined, { maxInFlight: 2, maxGroup: 500, minParallelGroup: 4 });
    const first = service.acceptOne(input);
    // Three arrive while the first statement is in flight: too few for a parallel one, they wait for it.
    await Promise.all([first, ...Array.from({ length: 3 }, () => service.acceptOne(input))]);
    assert.deepEqual(groups.map((g) => g.length), [1, 3]);
    // Five arrive while one is in flight: enough for a second statement beside it.
    const lone = service.acceptOne(input);
    await Promise.all([lone, ...Array.from({ length: 5 }, () => service.acceptOne(input))]);
    assert.deepEqual(groups.map((g) => g.length), [1, 3, 1, 4, 1]);
  });

  test('groups are capped, and a failed transaction rejects only its own callers', async () => {
    const { repository, groups } = fakeRepository({ failGroup: 2 });
    const service = new AcceptMessagesService(repository, 3600, () => undefined, { maxInFlight: 1, maxGroup: 4 });
    const outcomes = await Promise.allSettled(Array.from({ length: 9 }, () => service.acceptOne(input)));
    assert.deepEqual(groups.map((g) => g.length), [1, 4, 4]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  });
});

describe('templates: what accepted messages share travels once', () => {
  test('a batch\'s bare recipients share one template; a recipient with values of its own gets its own', async () => {
    const { service, inserted } = recordingService();
    const batch = validateBatchRequest(
      { from: 'ACME', body: 'Sale', trafficClass: 'promotional', recipients: ['+447911000001', '+447911000002', { to: '+447911000003', body: 'Yours' }, '+447911000004'] },
      { maxSegments: 10 },
    );
    assert.ok(batch.ok);
    const inputs = batch.recipients.map((r) => {
      assert.ok(r.ok);
      return { tenantId: 't', sandbox: false, message: r.value, source: 'api' as const };
    });
    const { response } = await service.acceptBatch({ id: 'b1', tenantId: 't', recipients: 4, rejected: 0 }, inputs, (results) => results);
    const rows = inserted[0]!;
    assert.deepEqual(rows.map((r) => r.to), ['+447911000001', '+447911000002', '+447911000003', '+447911000004']);
    assert.deepEqual(rows.map((r) => r.id), response.map((r) => r.id));
    assert.equal(new Set(rows.map((r) => r.eventId)).size, 4);
    assert.equal(rows[0]!.template, rows[1]!.template, 'bare numbers: one template');
    assert.notEqual(rows[2]!.template, rows[1]!.template);
    assert.equal(rows[2]!.template.payload.body, 'Yours');
    assert.notEqual(rows[3]!.template, rows[2]!.template, 'the shared values again after an override');
    assert.deepEqual(rows[3]!.template, rows[0]!.template);
    assert.deepEqual(rows[0]!.template, {
      tenantId: 't',
      topic: 'sms.internal.accepted.promotional.v1',
      payload: {
        from: 'ACME',
        body: 'Sale',
        trafficClass: 'promotional',
        encoding: 'GSM-7',
        segments: 1,
        callbackUrl: undefined,
        validUntil: new Date(Date.parse(response[0]!.acceptedAt) + 3600_000).toISOString(),
        acceptedAt: response[0]!.acceptedAt,
        reference: undefined,
        sandbox: false,
      },
      metadata: undefined,
      sendAt: undefined,
      source: 'api',
      batchId: 'b1',
      traceParent: undefined,
    });
  });

  test('messages of different tenants or requests never share a template', async () => {
    const { service, inserted } = recordingService();
    await service.accept([
      input,
      { ...input, tenantId: 'other' },
      { ...input, tenantId: 'other', sandbox: true },
      { ...input, tenantId: 'other', sandbox: true, traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    ]);
    const templates = inserted[0]!.map((r) => r.template);
    assert.equal(new Set(templates).size, 4);
    assert.deepEqual(templates.map((t) => [t.tenantId, t.payload.sandbox, t.traceParent !== undefined]), [
      ['t', false, false],
      ['other', false, false],
      ['other', true, false],
      ['other', true, true],
    ]);
  });
});

test('accepted messages get time-ordered (version 7) ids, so every table keyed by message id inserts at its index edge', async () => {
  const { service, inserted } = recordingService();
  const before = Date.now();
  const results = await service.accept([input, input, input]);
  for (const { id } of results) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
    assert.ok(messageIdTime(id) >= before && messageIdTime(id) <= Date.now());
  }
  assert.deepEqual(inserted[0]!.map((r) => r.id), results.map((r) => r.id));
});
