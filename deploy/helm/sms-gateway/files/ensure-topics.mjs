// Run by the chart's pre-install/pre-upgrade hook Job inside the gateway image (cwd /app, so
// `@sms/contracts` and `kafkajs` resolve from the image's node_modules). Creates every topic the contracts
// declare with their partition counts and grows existing ones; it never shrinks or deletes a topic.
// Not libs/kafka's ensureTopics: that one creates topics with replication factor 1 (the local stack).
import { Kafka, logLevel } from 'kafkajs';
import { topicSpecs } from '@sms/contracts';

const brokers = (process.env.KAFKA_BROKERS ?? '')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);
const replicationFactor = Number(process.env.TOPIC_REPLICATION_FACTOR ?? '1');
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set');
if (!Number.isInteger(replicationFactor) || replicationFactor < 1)
  throw new Error('TOPIC_REPLICATION_FACTOR must be a positive integer');

const admin = new Kafka({ clientId: 'sms-gateway-topics', brokers, logLevel: logLevel.WARN }).admin();
await admin.connect();
try {
  const specs = topicSpecs();
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.numPartitions,
        replicationFactor,
        configEntries: s.configEntries,
      })),
    });
  }
  const present = specs.filter((s) => existing.has(s.topic));
  let grown = 0;
  if (present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
    const grow = metadata.topics
      .map((t) => ({
        topic: t.name,
        count: specs.find((s) => s.topic === t.name).numPartitions,
        have: t.partitions.length,
      }))
      .filter((t) => t.have < t.count);
    if (grow.length > 0)
      await admin.createPartitions({ topicPartitions: grow.map(({ topic, count }) => ({ topic, count })) });
    grown = grow.length;
  }
  console.log(
    `topics: ${specs.length} declared, ${missing.length} created (replication factor ${replicationFactor}), ${grown} grown`,
  );
} finally {
  await admin.disconnect();
}
