import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from 'typeorm';
import type { MessagesRepository, NewMessage } from '../infra/messages.repository.js';
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
