// The router's routed_messages on real PostgreSQL: a row commits only together with its published records.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  acceptedTopicByLane,
  dispatchFailedTopicByLane,
  type AcceptedPayload,
  type DispatchFailedPayload,
  type DispatchPayload,
  type EventContract,
} from '@sms/contracts';
import type { ConsumedEvent, EventPublisher, PublishRequest } from '@sms/kafka';
import { openServiceDatabase } from '@sms/platform';
import { RouteTable } from '@sms/routing';
import { ROOT_CONTEXT, trace } from '@sms/telemetry';
import { createTestDatabase } from '@sms/testing';
import { RoutingService } from '../application/routing.service.js';
import { routerMigrations } from './migrations/index.js';
import { RoutedMessagesRepository } from './routed-messages.repository.js';

let database: { url: string; drop(): Promise<void> };
let dataSource: DataSource;

before(async () => {
  database = await createTestDatabase('router_routed');
  dataSource = await openServiceDatabase({
    url: database.url,
    schema: 'router',
    migrations: routerMigrations,
    applicationName: 'router-routed-it',
  });
});

after(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

const span = () => trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 });

function acceptedEvent(messageId: string): ConsumedEvent<AcceptedPayload> {
  return {
    envelope: {
      eventId: randomUUID(),
      type: acceptedTopicByLane.transactional.type,
      version: acceptedTopicByLane.transactional.version,
      occurredAt: new Date().toISOString(),
      tenantId: 't',
      messageId,
      payload: {
        to: '+447911000001',
        from: 'ACME',
        body: 'x',
        trafficClass: 'transactional',
        encoding: 'GSM-7',
        segments: 1,
        validUntil: new Date(Date.now() + 3_600_000).toISOString(),
        acceptedAt: new Date().toISOString(),
        sandbox: false,
      },
    },
    topic: acceptedTopicByLane.transactional.topic,
    partition: 0,
    offset: '0',
    context: ROOT_CONTEXT,
    span: span(),
  };
}

function failedEvent(messageId: string, attempt: number, carrierId: string): ConsumedEvent<DispatchFailedPayload> {
  return {
    envelope: {
      eventId: randomUUID(),
      type: dispatchFailedTopicByLane.transactional.type,
      version: dispatchFailedTopicByLane.transactional.version,
      occurredAt: new Date().toISOString(),
      tenantId: 't',
      messageId,
      payload: { carrierId, routeId: 'r', trafficClass: 'transactional', attempt, disposition: 'failover', finalStatus: 'failed', reason: { code: 'throttled' } },
    },
    topic: dispatchFailedTopicByLane.transactional.topic,
    partition: 0,
    offset: '0',
    context: ROOT_CONTEXT,
    span: span(),
  };
}

/** A publisher whose next `failures` calls reject, as kafkajs does once its own retries are spent. */
class FlakyPublisher {
  failures = 0;
  readonly dispatched: { messageId: string; carrierId: string; attempt: number }[] = [];
  async publishMany(requests: PublishRequest<unknown>[]): Promise<[]> {
    await Promise.resolve();
    if (this.failures > 0) {
      this.failures--;
      throw new Error('KafkaJSNumberOfRetriesExceeded: broker unavailable');
    }
    for (const r of requests) {
      if (!(r.contract as EventContract<unknown>).topic.startsWith('sms.internal.dispatch.')) continue;
      for (const d of r.drafts as { messageId?: string; payload: DispatchPayload }[]) {
        this.dispatched.push({ messageId: d.messageId!, carrierId: d.payload.carrierId, attempt: d.payload.attempt });
      }
    }
    return [];
  }
}

function service(publisher: FlakyPublisher): RoutingService {
  const table = new RouteTable(
    [{ id: 'r', match: {}, carriers: ['a', 'b'], carrierOptions: {} }],
    [
      { id: 'a', simulator: false },
      { id: 'b', simulator: false },
    ],
  );
  return new RoutingService(() => table, new RoutedMessagesRepository(dataSource), publisher as unknown as EventPublisher);
}

test('a failed publish leaves no routed row: the redelivered event is routed and dispatched, not taken for done', async () => {
  const publisher = new FlakyPublisher();
  const router = service(publisher);
  const messageId = randomUUID();
  publisher.failures = 1;
  await assert.rejects(router.routeAccepted([acceptedEvent(messageId)]), /broker unavailable/);
  const rows: unknown[] = await dataSource.query('SELECT 1 FROM routed_messages WHERE message_id = $1', [messageId]);
  assert.equal(rows.length, 0, 'the row rolled back with the failed publish');

  await router.routeAccepted([acceptedEvent(messageId)]);
  assert.deepEqual(publisher.dispatched, [{ messageId, carrierId: 'a', attempt: 1 }]);
  // A later redelivery is still deduped by the committed row.
  await router.routeAccepted([acceptedEvent(messageId)]);
  assert.equal(publisher.dispatched.length, 1);
});

test('a failed publish of a failover leaves the attempt where it was: the redelivered failure fails over', async () => {
  const publisher = new FlakyPublisher();
  const router = service(publisher);
  const messageId = randomUUID();
  await router.routeAccepted([acceptedEvent(messageId)]);
  publisher.failures = 1;
  await assert.rejects(router.handleDispatchFailed([failedEvent(messageId, 1, 'a')]), /broker unavailable/);
  const [row] = (await dataSource.query('SELECT attempt FROM routed_messages WHERE message_id = $1', [messageId])) as { attempt: number }[];
  assert.equal(row!.attempt, 1, 'the attempt rolled back with the failed publish');

  await router.handleDispatchFailed([failedEvent(messageId, 1, 'a')]);
  assert.deepEqual(publisher.dispatched, [
    { messageId, carrierId: 'a', attempt: 1 },
    { messageId, carrierId: 'b', attempt: 2 },
  ]);
  await router.handleDispatchFailed([failedEvent(messageId, 1, 'a')]);
  assert.equal(publisher.dispatched.length, 2, 'a later redelivery is still deduped by the attempt guard');
});

test('a routed row keeps the accepted payload (as jsonb, the column earlier releases read) and reads it back whole', async () => {
  const repository = new RoutedMessagesRepository(dataSource);
  const accepted = { ...acceptedEvent(randomUUID()).envelope.payload, body: 'Grüße, ваш код 1234 😀 \x1e\u0001 "q" \\', reference: 'ref,with "quotes"' };
  const withCarriers = randomUUID();
  const noCarriers = randomUUID();
  const fresh = await repository.insertNew([
    { messageId: withCarriers, tenantId: 't', routeId: 'r', carriers: ['a', 'carrier-2'], accepted, traceParent: '00-' + '1'.repeat(32) + '-' + '2'.repeat(16) + '-01', final: false },
    { messageId: noCarriers, tenantId: 't', routeId: null, carriers: [], accepted, traceParent: null, final: true },
  ]);
  assert.deepEqual(fresh, new Set([withCarriers, noCarriers]));
  // What a replica of an earlier release reads during a rolling upgrade (SELECT *, the jsonb column).
  const [stored] = (await dataSource.query('SELECT * FROM routed_messages WHERE message_id = $1', [withCarriers])) as { accepted: unknown }[];
  assert.deepEqual(stored!.accepted, accepted);

  const routed = await repository.find(withCarriers);
  assert.deepEqual(
    { carriers: routed!.carriers, routeId: routed!.routeId, accepted: routed!.accepted, attempt: routed!.attempt, final: routed!.final },
    { carriers: ['a', 'carrier-2'], routeId: 'r', accepted, attempt: 1, final: false },
  );
  const none = await repository.find(noCarriers);
  assert.deepEqual({ carriers: none!.carriers, routeId: none!.routeId, traceParent: none!.traceParent, final: none!.final }, { carriers: [], routeId: null, traceParent: null, final: true });
  assert.deepEqual(await repository.insertNew([{ messageId: noCarriers, tenantId: 't', routeId: null, carriers: [], accepted, traceParent: null, final: true }]), new Set(), 'a redelivery is not new');
});
