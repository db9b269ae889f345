// Proves that the broker this package runs (KAFKA_VERSION) works with kafkajs 2.2.4 for everything the
// gateway does: admin topics, acks=-1 and idempotent produce, consumer groups with eachBatch and manual
// commits, resume from the committed offset, compacted topics and the offset APIs used for lag.
// Kafka 4.0 removed old protocol versions (KIP-896); a client that only speaks those fails here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, Partitioners, type Consumer, type EachBatchPayload } from 'kafkajs';
import { createTopics, startKafka, type KafkaBroker } from './kafka.js';
import { freePort } from './net.js';

const TOPIC = 'it.events';
const COMPACTED = 'it.state';
const GROUP = 'it-group';

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The broker's supported [min, max] per API key, from a raw ApiVersions v0 request (no client library). */
async function brokerApiVersions(port: number): Promise<Map<number, [number, number]>> {
  const socket = net.connect(port, '127.0.0.1');
  const clientId = Buffer.from('it');
  const body = Buffer.alloc(10 + clientId.length);
  body.writeInt16BE(18, 0); // api key: ApiVersions
  body.writeInt16BE(0, 2); // api version 0: every broker answers it
  body.writeInt32BE(1, 4); // correlation id
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  socket.write(Buffer.concat([size, body]));
  let response = Buffer.alloc(0);
  for await (const chunk of socket) {
    response = Buffer.concat([response, chunk as Buffer]);
    if (response.length >= 4 && response.length >= 4 + response.readInt32BE(0)) break;
  }
  socket.destroy();
  assert.equal(response.readInt16BE(8), 0, 'ApiVersions error code');
  const versions = new Map<number, [number, number]>();
  for (let i = 0, o = 14; i < response.readInt32BE(10); i++, o += 6) {
    versions.set(response.readInt16BE(o), [response.readInt16BE(o + 2), response.readInt16BE(o + 4)]);
  }
  return versions;
}

void describe('local Kafka broker with kafkajs 2.2.4', { timeout: 240_000 }, () => {
  let dataDir: string;
  let port: number;
  let controllerPort: number;
  let broker: KafkaBroker;
  let kafka: Kafka;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sms-kafka-it-'));
    port = await freePort();
    controllerPort = await freePort();
    const t0 = Date.now();
    broker = await startKafka({ dataDir, port, controllerPort, log: (l) => console.log(`[kafka] ${l}`) });
    console.log(`[measure] startKafka (fetch if needed + format + ready): ${Date.now() - t0} ms`);
    kafka = new Kafka({ clientId: 'it', brokers: [broker.brokers], logLevel: logLevel.WARN });
  });

  after(async () => {
    await broker?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  void test('the broker JVM compiles with C1 only (C2 took a third of its CPU on this 2-core box)', async () => {
    const cmdline = (await readFile(`/proc/${broker.pid}/cmdline`, 'utf8')).split('\0');
    assert.ok(cmdline.includes('-XX:TieredStopAtLevel=1'), cmdline.join(' '));
  });

  // kafkajs sends min(its newest version, broker max) and never looks at the broker's minimum, so an API
  // whose kafkajs versions all sit below the broker's minimum (KIP-896 removals) fails only at call time.
  // This lists every API kafkajs implements, to name the culprit precisely when KAFKA_VERSION is bumped.
  void test('every API kafkajs 2.2.4 implements negotiates a version the broker accepts', async () => {
    const require = createRequire(import.meta.url);
    // kafkajs internals (pinned 2.2.4): its per-API version tables.
    const { requests } = require('kafkajs/src/protocol/requests/index.js') as {
      requests: Record<string, { versions: string[] }>;
    };
    const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;
    const broker = await brokerApiVersions(port);
    const rows: string[] = [];
    const rejected: string[] = [];
    for (const [name, def] of Object.entries(requests)) {
      if (def.versions.length === 0) continue; // declared but not implemented by kafkajs
      const kafkajsMax = Math.max(...def.versions.map(Number));
      const range = broker.get(apiKeys[name] ?? -1);
      const sent = range ? Math.min(kafkajsMax, range[1]) : undefined;
      const ok = range !== undefined && sent !== undefined && sent >= range[0];
      rows.push(
        `${name}: kafkajs<=v${kafkajsMax} broker=${range ? `v${range[0]}-v${range[1]}` : 'absent'} -> ${ok ? `v${sent}` : 'REJECTED'}`,
      );
      if (!ok) rejected.push(name);
    }
    console.log(`[evidence] ${rows.join('\n[evidence] ')}`);
    assert.deepEqual(rejected, []);
  });

  void test('createTopics is idempotent and grows partitions; compacted topic gets its config', async () => {
    await createTopics(broker.brokers, [{ topic: TOPIC, numPartitions: 2 }]);
    await createTopics(broker.brokers, [
      { topic: TOPIC, numPartitions: 3 },
      { topic: COMPACTED, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]);
    await createTopics(broker.brokers, [{ topic: TOPIC, numPartitions: 3 }]); // no-op

    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC, COMPACTED] });
      assert.equal(topics.find((t) => t.name === TOPIC)?.partitions.length, 3);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: 2 /* ConfigResourceTypes.TOPIC */, name: COMPACTED, configNames: ['cleanup.policy'] },
        ],
      });
      assert.equal(
        configs.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue,
        'compact',
      );
    } finally {
      await admin.disconnect();
    }
  });

  void test('produce (acks -1 and idempotent), consume with eachBatch, commit, resume, lag', async () => {
    const plain = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const idempotent = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await plain.connect();
    await idempotent.connect();
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % 7}`, value: `m${from + i}` }));
    try {
      await plain.send({ topic: TOPIC, acks: -1, messages: batch(0, 30) });
      await idempotent.sendBatch({ acks: -1, topicMessages: [{ topic: TOPIC, messages: batch(30, 30) }] });
      // The compacted topic takes keyed writes like any other.
      await idempotent.send({
        topic: COMPACTED,
        acks: -1,
        messages: [
          { key: 'route:1', value: 'v1' },
          { key: 'route:1', value: 'v2' },
        ],
      });
    } finally {
      await plain.disconnect();
      await idempotent.disconnect();
    }

    // Consumes until `expected` messages arrived, committing after every batch, then leaves the group.
    const consumeAndCommit = async (expected: number): Promise<string[]> => {
      const seen: string[] = [];
      const consumer: Consumer = kafka.consumer({
        groupId: GROUP,
        sessionTimeout: 10_000,
        heartbeatInterval: 1000,
      });
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch: b, resolveOffset, heartbeat }: EachBatchPayload) => {
          for (const m of b.messages) {
            seen.push(m.value?.toString() ?? '');
            resolveOffset(m.offset);
          }
          const last = b.messages.at(-1);
          if (last) {
            await consumer.commitOffsets([
              { topic: b.topic, partition: b.partition, offset: String(Number(last.offset) + 1) },
            ]);
          }
          await heartbeat();
          if (seen.length >= expected) done();
        },
      });
      try {
        await within(finished, 60_000, `consuming ${expected} messages (got ${seen.length})`);
        return seen;
      } finally {
        await consumer.disconnect();
      }
    };

    const first = await consumeAndCommit(60);
    assert.equal(first.length, 60);
    assert.deepEqual(new Set(first), new Set(batch(0, 60).map((m) => m.value)));

    const admin = kafka.admin();
    await admin.connect();
    try {
      const lag = async (): Promise<number> => {
        const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
        const ends = await admin.fetchTopicOffsets(TOPIC);
        return ends.reduce((sum, p) => {
          const c = Number(committed?.partitions.find((x) => x.partition === p.partition)?.offset ?? '-1');
          return sum + Number(p.high) - Math.max(c, Number(p.low));
        }, 0);
      };
      assert.equal(await lag(), 0, 'everything consumed is committed');

      const producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      await producer.send({ topic: TOPIC, acks: -1, messages: batch(60, 10) });
      await producer.disconnect();
      assert.equal(await lag(), 10, 'lag counts the new messages');

      // A fresh consumer in the same group must start at the committed offsets, not at the beginning.
      const second = await consumeAndCommit(10);
      assert.deepEqual(new Set(second), new Set(batch(60, 10).map((m) => m.value)));
      assert.equal(second.length, 10, 'no redelivery of committed messages');
      assert.equal(await lag(), 0);
    } finally {
      await admin.disconnect();
    }
  });

  void test('restart on the same data dir keeps topics and data (no refetch, no reformat)', async () => {
    await broker.stop();
    const t0 = Date.now();
    broker = await startKafka({ dataDir, port, controllerPort, log: (l) => console.log(`[kafka] ${l}`) });
    console.log(`[measure] second startKafka (cached jars, formatted storage): ${Date.now() - t0} ms`);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(TOPIC);
      assert.equal(
        offsets.reduce((sum, p) => sum + Number(p.high), 0),
        70,
      );
    } finally {
      await admin.disconnect();
    }
  });

  void test('a port in use is reported clearly', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startKafka({ dataDir: path.join(dataDir, 'other'), port: taken, controllerPort: await freePort() }),
        new RegExp(`Kafka: port ${taken} on 127.0.0.1 is already in use`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
