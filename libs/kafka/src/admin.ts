import type { Kafka } from 'kafkajs';
import { topicSpecs, type TopicSpec } from '@sms/contracts';

/** Creates the gateway's topics (idempotent); grows partitions of existing topics to the declared count. */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[] = topicSpecs()): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.numPartitions,
          replicationFactor: 1,
          configEntries: s.configEntries,
        })),
      });
    }
    const present = specs.filter((s) => existing.has(s.topic));
    if (present.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
      const grow = metadata.topics
        .map((t) => ({ topic: t.name, count: specs.find((s) => s.topic === t.name)!.numPartitions, have: t.partitions.length }))
        .filter((t) => t.have < t.count);
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow.map(({ topic, count }) => ({ topic, count })) });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Total lag of a consumer group over its topics (log end offset minus committed offset). */
export async function consumerGroupLag(kafka: Kafka, groupId: string, topics: string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let lag = 0;
    const committed = await admin.fetchOffsets({ groupId, topics });
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const groupTopic = committed.find((c) => c.topic === topic);
      for (const end of ends) {
        const c = groupTopic?.partitions.find((p) => p.partition === end.partition);
        const committedOffset = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(end.low);
        lag += Math.max(0, Number(end.high) - committedOffset);
      }
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}
