// TopicProbe on the real broker: it starts at the topic's end as of start(), fixed by committed offsets, not by
// whenever its group's first fetch happens to resolve "latest".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEAD_LETTER_TOPIC } from '@sms/contracts';
import { TopicProbe, connectedPublisher, ensureTestTopics, testKafka, uniqueSuffix } from './index.js';

void test('a probe reads from the end as of start(): committed before it joins, so nothing published next is missed', async () => {
  const kafka = testKafka('topic-probe-it');
  await ensureTestTopics(kafka);
  const publisher = await connectedPublisher(kafka);
  const suffix = uniqueSuffix();
  const probe = new TopicProbe<unknown>(kafka, DEAD_LETTER_TOPIC);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await publisher.sendRaw(DEAD_LETTER_TOPIC, [{ key: `before-${suffix}`, value: 'before' }]);
    const ends = await admin.fetchTopicOffsets(DEAD_LETTER_TOPIC);
    await probe.start();
    const [committed] = await admin.fetchOffsets({ groupId: probe.groupId, topics: [DEAD_LETTER_TOPIC] });
    assert.deepEqual(
      committed!.partitions.map((p) => [p.partition, p.offset]).sort((a, b) => Number(a[0]) - Number(b[0])),
      ends.map((p) => [p.partition, p.high]).sort((a, b) => Number(a[0]) - Number(b[0])),
      'the group starts at the ends read by start(), not at a "latest" resolved later',
    );
    await publisher.sendRaw(DEAD_LETTER_TOPIC, [{ key: `after-${suffix}`, value: 'after' }]);
    await probe.waitForRaw((r) => r.key === `after-${suffix}`, 15_000);
    assert.equal(probe.raw.filter((r) => r.key === `before-${suffix}`).length, 0);
  } finally {
    await admin.disconnect();
    await probe.stop();
    await publisher.disconnect();
  }
});
