import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { FastDefaultPartitioner, murmur2 } from './partitioner.js';

const metadata = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

// Keys of every shape: message ids, carrier ids with a separator, every tail length, multi-byte UTF-8, raw bytes.
const keys: (string | Buffer)[] = [
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'sim:ab12',
  'été',
  '名前:42',
  '😀x',
  ...Array.from({ length: 2000 }, () => randomUUID()),
  ...Array.from({ length: 500 }, (_, i) => randomBytes(i % 41).toString('latin1')),
  ...Array.from({ length: 500 }, (_, i) => randomBytes(i % 37)),
];

describe('FastDefaultPartitioner', () => {
  test('puts every key on the partition kafkajs DefaultPartitioner (Java murmur2) puts it', () => {
    const theirs = Partitioners.DefaultPartitioner();
    const ours = FastDefaultPartitioner();
    for (const count of [1, 2, 3, 6, 7, 12, 50]) {
      const partitionMetadata = metadata(count);
      for (const key of keys) {
        const message = { key, value: 'v' };
        assert.equal(ours({ topic: 't', partitionMetadata, message }), theirs({ topic: 't', partitionMetadata, message }), `key ${String(key)}, ${count} partitions`);
      }
    }
  });

  test('known Java murmur2 values', () => {
    // From the Java client's UtilsTest (org.apache.kafka.common.utils): murmur2 of these byte strings.
    assert.equal(murmur2('21'), -973932308);
    assert.equal(murmur2('foobar'), -790332482);
    assert.equal(murmur2('a-little-bit-long-string'), -985981536);
    assert.equal(murmur2('a-little-bit-longer-string'), -1486304829);
    assert.equal(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971);
    assert.equal(murmur2(Buffer.from('abc')), 479470107);
  });

  test('an explicit partition wins; keyless messages go round-robin over partitions that have a leader', () => {
    const partition = FastDefaultPartitioner();
    const partitionMetadata = metadata(6, [1, 4]);
    assert.equal(partition({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 5 } }), 5);
    const chosen = Array.from({ length: 40 }, () => partition({ topic: 't', partitionMetadata, message: { value: 'v' } }));
    assert.deepEqual([...new Set(chosen)].sort(), [0, 2, 3, 5]);
    for (let i = 1; i < chosen.length; i++) assert.notEqual(chosen[i], chosen[i - 1], 'round-robin, not random');
  });
});
