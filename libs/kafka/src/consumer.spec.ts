import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumerConfig, Kafka } from 'kafkajs';
import { BatchConsumer, CONSUMER_HEARTBEAT_INTERVAL_MS } from './consumer.js';
import type { EventPublisher } from './publisher.js';
import { silentLogger } from './logger.js';

test('members heartbeat every 500 ms, so a member joining a busy group is given partitions within about a second', () => {
  const configs: ConsumerConfig[] = [];
  const kafka = { consumer: (config: ConsumerConfig) => (configs.push(config), {}) } as unknown as Kafka;
  new BatchConsumer(kafka, { groupId: 'g', subscriptions: [], publisher: {} as EventPublisher, logger: silentLogger });
  assert.equal(CONSUMER_HEARTBEAT_INTERVAL_MS, 500);
  assert.equal(configs[0]?.heartbeatInterval, 500);
  assert.ok(configs[0]!.sessionTimeout! >= 3 * configs[0]!.heartbeatInterval!, 'the session outlives several missed heartbeats');
});
