import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { topicSpecs } from '@sms/contracts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const script = readFileSync(join(here, '../sms-gateway/files/ensure-topics.mjs'), 'utf8');
const brokers = process.env['KAFKA_BROKERS'];

/** Runs the topics hook exactly as the chart's Job does: `node --input-type=module -e <script>` from the app root. */
function runHook(env: Record<string, string>) {
  return run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });
}

test('the chart topics hook leaves every declared topic with at least its declared partitions, and is idempotent', async () => {
  assert.ok(brokers, 'KAFKA_BROKERS must point at the test Kafka');
  const specs = topicSpecs();
  for (let round = 0; round < 2; round++) {
    const { stdout } = await runHook({ KAFKA_BROKERS: brokers, TOPIC_REPLICATION_FACTOR: '1' });
    assert.match(
      stdout,
      new RegExp(
        `^topics: ${specs.length} declared, \\d+ created \\(replication factor 1\\), \\d+ grown$`,
        'm',
      ),
    );
    if (round === 1) assert.match(stdout, / 0 created .* 0 grown$/m, 'a second run changes nothing');
  }
  const admin = new Kafka({
    clientId: 'helm-topics-test',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
    for (const spec of specs) {
      const topic = metadata.topics.find((t) => t.name === spec.topic);
      assert.ok(topic, `${spec.topic} exists`);
      assert.ok(
        topic.partitions.length >= spec.numPartitions,
        `${spec.topic}: ${topic.partitions.length} < ${spec.numPartitions} partitions`,
      );
    }
  } finally {
    await admin.disconnect();
  }
});

test('the topics hook fails loudly on a bad replication factor or no brokers', async () => {
  await assert.rejects(
    runHook({ KAFKA_BROKERS: brokers ?? 'x:1', TOPIC_REPLICATION_FACTOR: 'three' }),
    /TOPIC_REPLICATION_FACTOR must be a positive integer/,
  );
  await assert.rejects(runHook({ TOPIC_REPLICATION_FACTOR: '1' }), /KAFKA_BROKERS is not set/);
});
