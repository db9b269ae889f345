import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { acceptedTopicByLane, dispatchFailedTopicByLane, dispatchPayload, type AcceptedPayload, type DispatchFailedPayload, type EventContract, type TrafficClass } from '@sms/contracts';
import type { ConsumedEvent, EventPublisher, PublishRequest } from '@sms/kafka';
import { RouteTable } from '@sms/routing';
import { ROOT_CONTEXT, trace } from '@sms/telemetry';
import type { AttemptFailure } from '../domain/reasons.js';
import type { NewRoutedMessage, RoutedMessage, RoutedMessagesRepository } from '../infra/routed-messages.repository.js';
import { RoutingService, routerConsumerGroups } from './routing.service.js';

const accepted = (trafficClass: TrafficClass): AcceptedPayload => ({
  to: '+447911000001',
  from: 'ACME',
  body: 'x',
  trafficClass,
  encoding: 'GSM-7',
  segments: 1,
  validUntil: new Date(Date.now() + 3_600_000).toISOString(),
  acceptedAt: new Date().toISOString(),
  sandbox: false,
});

/** In-memory routed_messages with the same attempt guard as the SQL (the SQL itself is tested on PostgreSQL). */
class MemoryRouted {
  readonly rows = new Map<string, RoutedMessage>();
  async inTransaction<T>(work: (tx: MemoryRouted) => Promise<T>): Promise<T> {
    return work(this);
  }
  async find(messageId: string): Promise<RoutedMessage | undefined> {
    await Promise.resolve();
    return this.rows.get(messageId);
  }
  async advanceAttempt(messageId: string, fromAttempt: number, final: boolean, failure: AttemptFailure): Promise<AttemptFailure[] | undefined> {
    await Promise.resolve();
    const row = this.rows.get(messageId);
    if (!row || row.attempt !== fromAttempt || row.final) return undefined;
    row.attempt += 1;
    row.final = final;
    row.failures = [...row.failures, failure];
    return row.failures;
  }
}

function failure(messageId: string, trafficClass: TrafficClass, attempt: number, carrierId: string): ConsumedEvent<DispatchFailedPayload> {
  return {
    envelope: {
      eventId: randomUUID(),
      type: dispatchFailedTopicByLane[trafficClass].type,
      version: dispatchFailedTopicByLane[trafficClass].version,
      occurredAt: new Date().toISOString(),
      tenantId: 't',
      messageId,
      payload: { carrierId, routeId: 'r', trafficClass, attempt, disposition: 'failover', finalStatus: 'failed', reason: { code: 'throttled' } },
    },
    topic: dispatchFailedTopicByLane[trafficClass].topic,
    partition: 0,
    offset: '0',
    context: ROOT_CONTEXT,
    span: trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }),
  };
}

describe('routing service: failover of a slice of dispatch failures', () => {
  test("a slice of one lane's failures: every message failed over, a message's own failures stay in order", async () => {
    const routed = new MemoryRouted();
    const published: { topic: string; messageId: string; attempt?: number }[] = [];
    const publisher = {
      publishMany: async (requests: PublishRequest<unknown>[]) => {
        await Promise.resolve();
        for (const r of requests as PublishRequest<{ attempt?: number }>[]) {
          for (const d of r.drafts) published.push({ topic: (r.contract as EventContract<unknown>).topic, messageId: d.messageId!, attempt: d.payload.attempt });
        }
        return [];
      },
    } as unknown as EventPublisher;
    const service = new RoutingService(() => new RouteTable([]), routed as unknown as RoutedMessagesRepository, publisher);
    const add = (trafficClass: TrafficClass) => {
      const messageId = randomUUID();
      routed.rows.set(messageId, {
        messageId,
        tenantId: 't',
        routeId: 'r',
        carriers: ['a', 'b', 'c'],
        attempt: 1,
        accepted: accepted(trafficClass),
        traceParent: null,
        final: false,
        failures: [],
      });
      return messageId;
    };
    // A promotional storm (each lane has its own topic, so a slice is one lane); one message fails twice.
    const promos = Array.from({ length: 40 }, () => add('promotional'));
    const batch = [...promos.map((id) => failure(id, 'promotional', 1, 'a')), failure(promos[0]!, 'promotional', 2, 'b')];
    await service.handleDispatchFailed(batch);

    const dispatches = published.filter((p) => p.topic.startsWith('sms.internal.dispatch.'));
    assert.ok(dispatches.every((d) => d.topic === 'sms.internal.dispatch.promotional.v1'));
    assert.equal(dispatches.length, 41, 'every message failed over, the twice-failed one twice');
    assert.deepEqual(
      dispatches.filter((d) => d.messageId === promos[0]).map((d) => d.attempt),
      [2, 3],
    );
    assert.equal(routed.rows.get(promos[0]!)!.attempt, 3);
  });
});

describe('router consumer groups', () => {
  test("each lane's dispatch-failed topic has its own group; the bulk lanes fetch in small pieces", () => {
    const groups = routerConsumerGroups('p');
    const byTopic = new Map(groups.flatMap((g) => g.contracts.map((c) => [c.topic, g] as const)));
    const failed = (['otp', 'transactional', 'promotional'] as const).map((lane) => byTopic.get(dispatchFailedTopicByLane[lane].topic));
    assert.deepEqual(
      failed.map((g) => g?.groupId),
      ['p.router.dispatch-failed.otp', 'p.router.dispatch-failed.transactional', 'p.router.dispatch-failed.promotional'],
    );
    for (const g of failed) assert.equal(g!.contracts.length, 1, `${g!.groupId} reads only its lane`);
    assert.equal(failed[0]!.maxBatchSize, 100);
    assert.equal(failed[2]!.maxBytes, 256 * 1024);
    assert.equal(byTopic.has('sms.internal.dispatch-failed.v1'), false, 'nothing reads the pre-lanes topic');
    assert.equal(new Set(groups.map((g) => g.groupId)).size, groups.length);
  });
});

describe('routing service: dispatch payloads the publisher does not re-check', () => {
  const acceptedEvent = (trafficClass: TrafficClass): ConsumedEvent<AcceptedPayload> => ({
    envelope: {
      eventId: randomUUID(),
      type: acceptedTopicByLane[trafficClass].type,
      version: acceptedTopicByLane[trafficClass].version,
      occurredAt: new Date().toISOString(),
      tenantId: 't',
      messageId: randomUUID(),
      payload: { ...accepted(trafficClass), reference: 'ref', callbackUrl: 'https://example.com/hook' },
    },
    topic: acceptedTopicByLane[trafficClass].topic,
    partition: 0,
    offset: '0',
    context: ROOT_CONTEXT,
    span: trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }),
  });

  async function dispatchRequests(routeId: string, carrierId: string): Promise<PublishRequest<unknown>[]> {
    const requests: PublishRequest<unknown>[] = [];
    const publisher = {
      publishMany: async (batch: PublishRequest<unknown>[]) => {
        await Promise.resolve();
        requests.push(...batch);
        return [];
      },
    } as unknown as EventPublisher;
    const repository = {
      inTransaction: async <T>(work: (tx: unknown) => Promise<T>) => work(repository),
      insertNew: async (rows: NewRoutedMessage[]) => {
        await Promise.resolve();
        return new Set(rows.map((r) => r.messageId));
      },
    } as unknown as RoutedMessagesRepository;
    const table = new RouteTable([{ id: routeId, match: {}, carriers: [carrierId], carrierOptions: {} }], [{ id: carrierId, simulator: false }]);
    const service = new RoutingService(() => table, repository, publisher);
    await service.routeAccepted((['otp', 'transactional', 'promotional'] as const).map(acceptedEvent));
    return requests.filter((r) => r.contract.topic.startsWith('sms.internal.dispatch.'));
  }

  test('marked prevalidated, and valid: every payload passes the dispatch contract (longest ids the contract allows)', async () => {
    const requests = await dispatchRequests('r'.repeat(128), 'c'.repeat(64));
    assert.equal(requests.length, 3);
    for (const request of requests) {
      assert.equal(request.prevalidated, true);
      for (const draft of request.drafts) {
        const parsed = dispatchPayload.safeParse(draft.payload);
        assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
        assert.deepEqual(parsed.data, draft.payload, 'nothing the schema would strip or change');
      }
    }
  });

  test('ids the contract would refuse leave the check to the publisher', async () => {
    const requests = await dispatchRequests('r'.repeat(129), 'c');
    assert.equal(requests.length, 3);
    assert.ok(requests.every((r) => r.prevalidated === false));
  });
});
