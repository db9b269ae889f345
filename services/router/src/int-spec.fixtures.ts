// Shared by the router's integration specs: the gateway file they route by, an accepted event, and the
// router's groups started at the topics' ends (a shared broker holds other runs' events).
import { randomUUID } from 'node:crypto';
import { acceptedTopicByLane, type TrafficClass } from '@sms/contracts';
import type { EventPublisher, Kafka } from '@sms/kafka';
import { routerConsumerGroups } from './application/routing.service.js';

export const carrierYaml = (id: string, simulator = false) =>
  `  - id: ${id}\n    protocol: smpp\n    simulator: ${simulator}\n    smpp: { host: 127.0.0.1, port: 2775, systemId: gw, password: pw }\n`;

export interface AcceptOptions {
  sandbox?: boolean;
  messageId?: string;
  to?: string;
  body?: string;
}

/** Publishes one accepted event of `tenant` on its lane's topic; returns its message id. */
export async function publishAccepted(publisher: EventPublisher, tenant: string, trafficClass: TrafficClass, options: AcceptOptions = {}): Promise<string> {
  const messageId = options.messageId ?? randomUUID();
  const now = new Date();
  await publisher.publish(acceptedTopicByLane[trafficClass], [
    {
      tenantId: tenant,
      messageId,
      payload: {
        to: options.to ?? '+447911000001',
        from: 'ACME',
        body: options.body ?? 'Your code is 123456',
        trafficClass,
        encoding: 'GSM-7',
        segments: 1,
        validUntil: new Date(now.getTime() + 3_600_000).toISOString(),
        acceptedAt: now.toISOString(),
        sandbox: options.sandbox ?? false,
      },
    },
  ]);
  return messageId;
}

/** Commits the end of every topic the router's groups read, so a fresh prefix starts at what the test sends. */
export async function startRouterGroupsAtEnd(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const { groupId, contracts } of routerConsumerGroups(prefix)) {
      for (const { topic } of contracts) {
        const ends = await admin.fetchTopicOffsets(topic);
        await admin.setOffsets({ groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
      }
    }
  } finally {
    await admin.disconnect();
  }
}
