import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';

// patches/kafkajs+2.2.4.patch (applied by the root postinstall) rewrites kafkajs's produce encoding. These
// tests hold it to the unpatched kafkajs 2.2.4 code kept in ../kafkajs-2.2.4-oracle: the same bytes on
// the wire for every request, and records kafkajs's own fetch decoder reads back.

const require = createRequire(import.meta.url);

interface ProduceMessage {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  timestamp?: unknown;
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: ProduceMessage[] }[] }[];
}
type ProduceRequest = (args: ProduceArgs) => { encode: () => Promise<{ buffer: Buffer }> };
type GroupMessages = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: ProduceMessage[];
  partitioner: (args: { message: ProduceMessage }) => number;
}) => Record<string, ProduceMessage[]>;
interface DecodedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
  timestamp: string;
  offset: string;
}
interface LongClass {
  fromValue(value: number | string): unknown;
}

const patchedRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as ProduceRequest & { smsGatewayPatch?: number };
const originalRequest = require('../kafkajs-2.2.4-oracle/produceV3Request.cjs') as ProduceRequest;
const patchedGroup = require('kafkajs/src/producer/groupMessagesPerPartition.js') as GroupMessages & { smsGatewayPatch?: number };
const originalGroup = require('../kafkajs-2.2.4-oracle/groupMessagesPerPartition.cjs') as GroupMessages;
const patchedCrc = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (buffer: Buffer) => number;
const originalCrc = require('../kafkajs-2.2.4-oracle/crc32C.cjs') as (buffer: Buffer) => number;
const { encodeUncompressedPartition } = require('kafkajs/src/protocol/recordBatch/v0/uncompressedPartition.js') as {
  encodeUncompressedPartition: (args: {
    partition: number;
    messages: ProduceMessage[];
    timestampDeltas: number[];
    firstTimestamp: number | string;
    maxTimestamp: number | string;
    transactional: boolean;
    producerId: unknown;
    producerEpoch: number;
    firstSequence?: number;
  }) => Buffer | null;
};
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => object;
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as (decoder: object) => Promise<DecodedRecord[]>;
const Long = require('kafkajs/src/utils/long.js') as LongClass;
type RecordDecoder = (decoder: object, batchContext?: Record<string, unknown>) => DecodedRecord;
const patchedRecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as RecordDecoder & { smsGatewayPatch?: number };
const originalRecordDecoder = require('../kafkajs-2.2.4-oracle/recordDecoder.cjs') as RecordDecoder;
const originalEncoder = require('../kafkajs-2.2.4-oracle/encoder.cjs') as new () => {
  writeInt8(v: number): unknown;
  writeVarLong(v: unknown): unknown;
  writeVarInt(v: number): unknown;
  writeVarIntBytes(v: unknown): unknown;
  buffer: Buffer;
};
const { Types: CompressionTypes } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number; GZIP: number } };

const FIXED_NOW = 1_780_000_000_000;

/** Runs both encoders with the same clock; a throw is part of the outcome (the original throws on some inputs). */
async function encodeBoth(args: ProduceArgs): Promise<[Buffer | string, Buffer | string]> {
  const realNow = Date.now;
  Date.now = () => FIXED_NOW;
  try {
    const outcome = async (request: ProduceRequest): Promise<Buffer | string> => {
      try {
        return (await request(args).encode()).buffer;
      } catch (error) {
        return `throws ${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    return [await outcome(patchedRequest), await outcome(originalRequest)];
  } finally {
    Date.now = realNow;
  }
}

// Strings of every kind (ASCII, multi-byte and astral UTF-8, lone surrogates) and raw bytes, some long
// enough for two- and three-byte length varints.
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 60, maxLength: 9000 }),
);
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ minLength: 8100, maxLength: 8300 }).map((a) => Buffer.from(a)),
);
const bytesOrText = fc.oneof(text, bytes);
const headerValue = fc.oneof(bytesOrText, fc.array(bytesOrText, { maxLength: 3 }));
const headers = fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 })), headerValue, {
  maxKeys: 4,
});
const timestamp = fc.oneof(
  fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }).map(String),
  fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }),
  fc.constantFrom(0, '0', '1', FIXED_NOW - 1, String(FIXED_NOW + 5)),
);
const message: fc.Arbitrary<ProduceMessage> = fc.record(
  {
    key: fc.oneof(bytesOrText, fc.constant(null), fc.constant(undefined)),
    value: fc.oneof(bytesOrText, fc.constant(null)),
    headers,
    timestamp,
  },
  { requiredKeys: ['value'] },
);
const partitions = fc.uniqueArray(
  fc.record(
    {
      partition: fc.nat({ max: 50 }),
      firstSequence: fc.nat({ max: 2 ** 31 - 1 }),
      messages: fc.array(message, { maxLength: 12 }),
    },
    { requiredKeys: ['partition', 'messages'] },
  ),
  { selector: (p) => p.partition, minLength: 1, maxLength: 3 },
);
const produceArgs: fc.Arbitrary<ProduceArgs> = fc.record(
  {
    acks: fc.constantFrom(-1, 0, 1),
    timeout: fc.nat({ max: 60_000 }),
    transactionalId: fc.option(fc.string({ maxLength: 10 })),
    producerId: fc.oneof(
      fc.integer({ min: -1, max: 2 ** 31 - 1 }).map((n) => Long.fromValue(n)),
      fc.bigInt({ min: 0n, max: 2n ** 62n }).map((n) => Long.fromValue(n.toString())),
    ),
    producerEpoch: fc.nat({ max: 32767 }),
    compression: fc.constant(CompressionTypes.None),
    topicData: fc.array(fc.record({ topic: fc.string({ minLength: 1, maxLength: 20 }), partitions }), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: ['acks', 'timeout', 'topicData'] },
);

describe('kafkajs 2.2.4 patch: produce encoding', () => {
  test('the patch is applied to the installed kafkajs (root postinstall: patch-package)', () => {
    const pkg = JSON.parse(readFileSync(require.resolve('kafkajs/package.json'), 'utf8')) as { version: string };
    assert.equal(pkg.version, '2.2.4', 'patches/kafkajs+2.2.4.patch is for kafkajs 2.2.4 only');
    assert.equal(patchedRequest.smsGatewayPatch, 1, 'produce/v3/request.js is the unpatched one: run `npx patch-package`');
    assert.equal(patchedGroup.smsGatewayPatch, 1, 'groupMessagesPerPartition.js is the unpatched one');
    assert.equal(patchedRecordDecoder.smsGatewayPatch, 1, 'recordBatch/record/v0/decoder.js is the unpatched one');
    assert.equal(typeof encodeUncompressedPartition, 'function');
  });

  test('produce requests are byte-identical to the original kafkajs 2.2.4 encoding', async () => {
    await fc.assert(
      fc.asyncProperty(produceArgs, async (args) => {
        const [patched, original] = await encodeBoth(args);
        assert.ok(Buffer.isBuffer(original), `the original threw: ${String(original)}`);
        assert.deepEqual(patched, original);
      }),
      { numRuns: 300 },
    );
  });

  test('inputs the fast path leaves to the original code (odd types, odd timestamps) end the same way', async () => {
    const odd = fc.oneof(
      fc.integer(),
      fc.constant(true),
      fc.uint8Array({ maxLength: 8 }),
      fc.constant({}),
      fc.double({ noNaN: false }),
    );
    const oddMessage: fc.Arbitrary<ProduceMessage> = fc.oneof(
      fc.record({ key: odd, value: text }),
      fc.record({ key: text, value: odd }),
      fc.record({ value: text, headers: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(odd, fc.constant(null)), { minKeys: 1, maxKeys: 2 }) }),
      fc.record({ value: text, headers: fc.constantFrom(null, 'ab', ['x']) }),
      fc.record({ value: text, timestamp: fc.oneof(fc.double(), fc.constantFrom('abc', 'NaN', '1e30', -1, 2 ** 60)) }),
      // Not a plain object: the original spreads it, so a getter on its prototype is not seen.
      fc.tuple(text, text).map(([key, value]) => new (class {
        readonly key = key;
        get value(): string {
          return value;
        }
      })()),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 4 }),
        oddMessage,
        fc.array(message, { maxLength: 4 }),
        async (before, oddOne, after) => {
          const args: ProduceArgs = {
            acks: -1,
            timeout: 30_000,
            topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [...before, oddOne, ...after] }] }],
          };
          const [patched, original] = await encodeBoth(args);
          assert.deepEqual(patched, original);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('compressed batches still take the original path', async () => {
    const [patched, original] = await encodeBoth({
      acks: -1,
      timeout: 1000,
      compression: CompressionTypes.GZIP,
      topicData: [{ topic: 't', partitions: [{ partition: 1, messages: [{ key: 'k', value: 'v', headers: { h: ['a', 'b'] } }] }] }],
    });
    // gzip output carries no timestamp of its own (node's zlib), so the two are comparable.
    assert.deepEqual(patched, original);
  });

  test("kafkajs's own fetch decoder reads back every record, and the CRC is the original algorithm's", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 15 }), fc.nat({ max: 100 }), async (messages, partition) => {
        const firstTimestamp = FIXED_NOW;
        const timestampDeltas = messages.map((m) => Number(m.timestamp || FIXED_NOW) - firstTimestamp);
        const entry = encodeUncompressedPartition({
          partition,
          messages,
          timestampDeltas,
          firstTimestamp,
          maxTimestamp: firstTimestamp + 10,
          transactional: false,
          producerId: Long.fromValue(-1),
          producerEpoch: 0,
        });
        assert.ok(entry);
        assert.equal(entry.readInt32BE(0), partition);
        assert.equal(entry.readUInt32BE(25), originalCrc(entry.subarray(29)) >>> 0, 'CRC32C of the batch body');

        const records = await decodeMessages(new Decoder(entry.subarray(4)));
        assert.equal(records.length, messages.length);
        records.forEach((record, i) => {
          const sent = messages[i];
          assert.equal(record.offset, String(i));
          assert.equal(record.timestamp, String(firstTimestamp + timestampDeltas[i]));
          assert.deepEqual(record.key, sent.key == null ? null : Buffer.from(sent.key as string | Buffer));
          assert.deepEqual(record.value, sent.value == null ? null : Buffer.from(sent.value as string | Buffer));
          // kafkajs's decoder collects headers in a plain object, so a header named like an Object.prototype
          // property (`__proto__`, `constructor`) reads back mangled, in the original as in the patch (the
          // decoder test below pins that they agree): such names are left out of this round trip.
          const inherited = (name: string) => name in Object.prototype;
          const expectedHeaders: Record<string, Buffer | Buffer[]> = {};
          for (const [name, value] of Object.entries((sent.headers ?? {}) as Record<string, string | Buffer | (string | Buffer)[]>)) {
            if (inherited(name)) continue;
            for (const item of Array.isArray(value) ? value : [value]) {
              const prior = expectedHeaders[name];
              const itemBytes = Buffer.from(item);
              expectedHeaders[name] = prior === undefined ? itemBytes : Array.isArray(prior) ? [...prior, itemBytes] : [prior, itemBytes];
            }
          }
          assert.deepEqual(Object.fromEntries(Object.entries(record.headers).filter(([name]) => !inherited(name))), expectedHeaders);
        });
      }),
      { numRuns: 200 },
    );
  });

  test('crc32C (slicing-by-8) equals the original byte-at-a-time table for every length and offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000, size: 'max' }), fc.nat({ max: 7 }), (array, skip) => {
        const buffer = Buffer.from(array).subarray(Math.min(skip, array.length));
        assert.equal(patchedCrc(buffer), originalCrc(buffer));
      }),
      { numRuns: 500 },
    );
    assert.equal(patchedCrc(Buffer.from('123456789')), 0xe3069283); // the CRC-32C check value
  });

  test('messages are grouped per partition as the original groups them (same keys, same order)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 7 }), { maxLength: 200 }), fc.nat({ max: 3 }), (targets, metadataLength) => {
        const messages = targets.map((partition, i) => ({ value: String(i), partition }));
        const args = {
          topic: 't',
          partitionMetadata: new Array<unknown>(metadataLength).fill({}),
          messages,
          partitioner: ({ message }: { message: ProduceMessage }) => (message as { partition: number }).partition,
        };
        const patched = patchedGroup(args);
        const original = originalGroup(args);
        assert.deepEqual(Object.keys(patched), Object.keys(original));
        assert.deepEqual(patched, original);
      }),
      { numRuns: 300 },
    );
  });
});

describe('kafkajs 2.2.4 patch: fetch decoding', () => {
  // A record as the broker sends it (the original encoder's bytes, any 64-bit timestamp delta).
  const recordBytes = (timestampDelta: bigint, offsetDelta: number, key: unknown, value: unknown, headers: [string, unknown][]): Buffer => {
    const body = new originalEncoder();
    body.writeInt8(0);
    body.writeVarLong(Long.fromValue(timestampDelta.toString()));
    body.writeVarInt(offsetDelta);
    body.writeVarIntBytes(key);
    body.writeVarIntBytes(value);
    body.writeVarInt(headers.length);
    for (const [name, headerValue] of headers) {
      body.writeVarIntBytes(name);
      body.writeVarIntBytes(headerValue);
    }
    return body.buffer;
  };
  /** The decoded record, or the error it threw (the original throws on some contexts: both must). */
  const decodeOutcome = (decoder: RecordDecoder, bytes: Buffer, batchContext: Record<string, unknown>): unknown => {
    try {
      return decoder(new Decoder(bytes), batchContext);
    } catch (error) {
      return `throws ${(error as Error).name}: ${(error as Error).message}`;
    }
  };
  const int64Text = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 45n }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.bigInt({ min: 2n ** 53n - 100n, max: 2n ** 53n + 100n }),
    fc.constantFrom(-1n, 0n, BigInt(FIXED_NOW)),
  );
  const delta = fc.oneof(
    fc.bigInt({ min: -(2n ** 20n), max: 2n ** 20n }),
    fc.bigInt({ min: -(2n ** 50n), max: 2n ** 50n }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  );

  test('records decode to what the original decoder returns (timestamps, offsets, keys, values, headers)', () => {
    fc.assert(
      fc.property(
        fc.record({
          firstTimestamp: int64Text.map(String),
          firstOffset: fc.oneof(int64Text.map(String), fc.constantFrom('007', '-0', 'x', '')),
          maxTimestamp: int64Text.map(String),
          timestampType: fc.constantFrom(0, 1),
          magicByte: fc.constant(2),
        }),
        fc.array(
          fc.tuple(delta, fc.nat({ max: 2 ** 31 - 1 }), fc.option(bytesOrText), fc.option(bytesOrText), fc.array(fc.tuple(fc.constantFrom('a', 'b', 'traceparent', '__proto__'), bytesOrText), { maxLength: 3 })),
          { minLength: 1, maxLength: 8 },
        ),
        (batchContext, records) => {
          for (const [timestampDelta, offsetDelta, key, value, headers] of records) {
            const bytes = recordBytes(timestampDelta, offsetDelta, key, value, headers);
            assert.deepEqual(decodeOutcome(patchedRecordDecoder, bytes, batchContext), decodeOutcome(originalRecordDecoder, bytes, batchContext));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('cut-short records end the same way in both decoders', () => {
    fc.assert(
      fc.property(delta, fc.nat({ max: 40 }), (timestampDelta, cut) => {
        const bytes = recordBytes(timestampDelta, 3, 'k', 'value', [['h', 'v']]);
        const cutShort = bytes.subarray(0, Math.min(cut, bytes.length));
        const batchContext = { firstTimestamp: '5', firstOffset: '9', timestampType: 0 };
        assert.deepEqual(decodeOutcome(patchedRecordDecoder, cutShort, batchContext), decodeOutcome(originalRecordDecoder, cutShort, batchContext));
      }),
      { numRuns: 300 },
    );
  });
});
