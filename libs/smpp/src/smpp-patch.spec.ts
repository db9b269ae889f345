import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';

// patches/smpp+0.5.1.patch (applied by the root postinstall) speeds up the package's PDU decoding and encoding
// and its GSM 03.38 coder. These tests hold it to the unpatched smpp 0.5.1 files kept in ../smpp-0.5.1-oracle:
// the same bytes for every PDU, the same fields for every decoded PDU, the same text for every GSM coding.

const require = createRequire(import.meta.url);

interface PduInstance {
  toBuffer(): Buffer;
  [field: string]: unknown;
}
interface PduClass {
  new (command: string | Buffer, options?: Record<string, unknown>): PduInstance;
  fromStream(stream: { read(size: number): Buffer | null }, commandLength: number): PduInstance | false;
  smsGatewayPatch?: number;
}
interface GsmCoder {
  encode(text: string, encoding: number): Buffer;
  decode(bytes: Buffer, encoding: number): string;
}

const patched = require('smpp/lib/pdu.js') as { PDU: PduClass };
const original = require('../smpp-0.5.1-oracle/pdu.cjs') as { PDU: PduClass };
const patchedGsm = (require('smpp/lib/defs.js') as { gsmCoder: GsmCoder }).gsmCoder;
const originalGsm = (require('../smpp-0.5.1-oracle/defs.cjs') as { gsmCoder: GsmCoder }).gsmCoder;

/** Runs f, returning its value or the thrown error's message (both sides must agree on either). */
function outcome<T>(f: () => T): { value: T } | { error: string } {
  try {
    return { value: f() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** A PDU's own fields as a plain object (what a caller reads); an invalid Date as a string (NaN !== NaN). */
function fieldsOf(pdu: PduInstance | false): Record<string, unknown> | false {
  if (pdu === false) return false;
  const fields: Record<string, unknown> = { ...pdu };
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Date && Number.isNaN(value.getTime())) fields[key] = 'Invalid Date';
  }
  return fields;
}

const ascii = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 21,
});
// Addresses and ids as a sender might pass them: mostly ASCII, sometimes any UTF-16 text (written as latin1).
const cstring = fc.oneof(
  ascii,
  ascii,
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const gsmText = fc.string({
  unit: fc.constantFrom(
    ...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡AZaz§¿äöñüà^{}\\[~]|€\fçşğıĞİŞ',
  ),
  maxLength: 60,
});
const anyText = fc.oneof(
  gsmText,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
// An absolute SMPP time (a relative one, ending in R, decodes against the clock: two decodes would differ).
const smppTime = fc.oneof(
  fc.constant(''),
  fc
    .tuple(
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 28 }),
      fc.integer({ min: 0, max: 23 }),
      fc.constantFrom('+', '-'),
    )
    .map(
      ([y, mo, d, h, sign]) =>
        `${[y, mo, d, h, 30, 15].map((n) => String(n).padStart(2, '0')).join('')}004${sign}`,
    ),
);
const shortMessage = fc.oneof(
  bytes(140),
  anyText,
  fc.record({
    udh: fc.constantFrom(
      Buffer.from([5, 0, 3, 7, 2, 1]),
      Buffer.from([6, 8, 4, 0, 9, 3, 1]),
      Buffer.from([3, 0x24, 1, 1]),
    ),
    message: gsmText,
  }),
);
// TLVs of each kind: integers, strings, buffers, filtered ones (given as Buffers, as a sender would) and the
// `multiple` ones (arrays).
const tlvFields = fc.record(
  {
    user_message_reference: fc.integer({ min: 0, max: 0xffff }),
    source_port: fc.integer({ min: 0, max: 0xffff }),
    sar_msg_ref_num: fc.integer({ min: 0, max: 0xffff }),
    sar_total_segments: fc.integer({ min: 0, max: 255 }),
    sar_segment_seqnum: fc.integer({ min: 0, max: 255 }),
    receipted_message_id: cstring,
    message_state: fc.integer({ min: 0, max: 255 }),
    network_error_code: bytes(3),
    message_payload: fc.oneof(bytes(300), gsmText),
    callback_num: fc.array(bytes(8), { minLength: 1, maxLength: 3 }),
    broadcast_area_identifier: fc.array(bytes(6), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const commands = {
  submit_sm: fc.record(
    {
      service_type: ascii,
      source_addr_ton: fc.integer({ min: 0, max: 6 }),
      source_addr: cstring,
      dest_addr_npi: fc.integer({ min: 0, max: 18 }),
      destination_addr: cstring,
      esm_class: fc.constantFrom(0, 3, 0x40),
      registered_delivery: fc.integer({ min: 0, max: 31 }),
      schedule_delivery_time: smppTime,
      validity_period: smppTime,
      data_coding: fc.constantFrom(null, 0, 1, 3, 8),
      short_message: shortMessage,
    },
    { requiredKeys: [] },
  ),
  deliver_sm: fc.record(
    {
      source_addr: cstring,
      destination_addr: cstring,
      esm_class: fc.constantFrom(0, 4, 0x40, 0x44),
      data_coding: fc.constantFrom(0, 1, 3, 8),
      short_message: shortMessage,
    },
    { requiredKeys: [] },
  ),
  data_sm: fc.record(
    { source_addr: cstring, destination_addr: cstring, data_coding: fc.constantFrom(0, 8) },
    { requiredKeys: [] },
  ),
  submit_multi: fc.record(
    {
      source_addr: cstring,
      dest_address: fc.array(
        fc.oneof(
          fc.record({
            dest_addr_ton: fc.integer({ min: 0, max: 6 }),
            dest_addr_npi: fc.integer({ min: 0, max: 9 }),
            destination_addr: cstring,
          }),
          fc.record({ dl_name: ascii }),
        ),
        { maxLength: 3 },
      ),
      short_message: bytes(50),
    },
    { requiredKeys: [] },
  ),
  submit_sm_resp: fc.record({ message_id: cstring }, { requiredKeys: [] }),
  deliver_sm_resp: fc.record({ message_id: cstring }, { requiredKeys: [] }),
  bind_transceiver: fc.record(
    { system_id: cstring, password: ascii, interface_version: fc.constantFrom(0x34, 0x50) },
    { requiredKeys: [] },
  ),
  bind_transceiver_resp: fc.record({ system_id: cstring }, { requiredKeys: [] }),
  enquire_link: fc.constant({}),
  generic_nack: fc.constant({}),
} as const;
const commandNames = Object.keys(commands) as (keyof typeof commands)[];

const pduSpec = fc.oneof(
  ...commandNames.map((command) =>
    fc.record({
      command: fc.constant(command),
      fields: commands[command] as fc.Arbitrary<Record<string, unknown>>,
      tlvs: command === 'enquire_link' || command === 'generic_nack' ? fc.constant({}) : tlvFields,
      sequence_number: fc.integer({ min: 1, max: 0x7fffffff }),
      command_status: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 0x58 })),
    }),
  ),
);

/** Each side gets its own copy of the options: the package's filters rewrite fields in place. */
function optionsOf(spec: {
  fields: Record<string, unknown>;
  tlvs: Record<string, unknown>;
  sequence_number: number;
  command_status: number;
}): Record<string, unknown> {
  const copy = (v: unknown): unknown =>
    Buffer.isBuffer(v)
      ? Buffer.from(v)
      : Array.isArray(v)
        ? v.map(copy)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]))
          : v;
  return copy({
    ...spec.fields,
    ...spec.tlvs,
    sequence_number: spec.sequence_number,
    command_status: spec.command_status,
  }) as Record<string, unknown>;
}

describe('smpp 0.5.1 patch', () => {
  test('is applied to the installed package (npm install runs patch-package)', () => {
    assert.equal(patched.PDU.smsGatewayPatch, 1, 'patches/smpp+0.5.1.patch is not applied; run npm ci');
  });

  test('encodes every PDU to the same bytes and leaves the same fields as the original', () => {
    fc.assert(
      fc.property(pduSpec, (spec) => {
        const mine = outcome(() => {
          const pdu = new patched.PDU(spec.command, optionsOf(spec));
          return { bytes: pdu.toBuffer(), fields: fieldsOf(pdu) };
        });
        const theirs = outcome(() => {
          const pdu = new original.PDU(spec.command, optionsOf(spec));
          return { bytes: pdu.toBuffer(), fields: fieldsOf(pdu) };
        });
        assert.deepEqual(mine, theirs);
      }),
      { numRuns: 1500 },
    );
  });

  test('decodes every encoded PDU, and damaged ones, to the same fields as the original', (t) => {
    // A damaged time field may become relative (ending in R), which both decode against the clock.
    t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-12-05T06:00:00Z') });
    fc.assert(
      fc.property(
        pduSpec,
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))),
        fc.nat(),
        (spec, damage, cut) => {
          const encoded = outcome(() => new original.PDU(spec.command, optionsOf(spec)).toBuffer());
          fc.pre('value' in encoded);
          const buffer = Buffer.from(encoded.value);
          // A flipped byte in the body (TLV lengths and tags included) and a body cut short.
          if (damage && buffer.length > 16) buffer[16 + (damage[0] % (buffer.length - 16))] = damage[1];
          const body = buffer.subarray(0, 16 + (cut % (buffer.length - 15)));
          for (const input of [buffer, body]) {
            assert.deepEqual(
              outcome(() => fieldsOf(new patched.PDU(Buffer.from(input)))),
              outcome(() => fieldsOf(new original.PDU(Buffer.from(input)))),
            );
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  test('reads a PDU from a stream as the original does, a short read included', () => {
    fc.assert(
      fc.property(pduSpec, fc.boolean(), (spec, short) => {
        const encoded = outcome(() => new original.PDU(spec.command, optionsOf(spec)).toBuffer());
        fc.pre('value' in encoded);
        const buffer = encoded.value;
        // A stream's read(n) returns fewer bytes than asked only at its end.
        const streamOf = () => ({
          read: (size: number) => buffer.subarray(4, 4 + (short ? Math.max(1, size - 3) : size)),
        });
        assert.deepEqual(
          outcome(() => fieldsOf(patched.PDU.fromStream(streamOf(), buffer.length))),
          outcome(() => fieldsOf(original.PDU.fromStream(streamOf(), buffer.length))),
        );
      }),
      { numRuns: 500 },
    );
  });

  test('GSM 03.38 coder: the same bytes and text for every national table', () => {
    fc.assert(
      fc.property(anyText, bytes(160), fc.constantFrom(0, 1, 2, 3), (text, raw, table) => {
        assert.deepEqual(patchedGsm.encode(text, table), originalGsm.encode(text, table));
        assert.equal(patchedGsm.decode(raw, table), originalGsm.decode(raw, table));
        // Twice in a row: the cached regular expressions are global, so their state must not leak between calls.
        assert.equal(patchedGsm.decode(raw, table), originalGsm.decode(raw, table));
        assert.deepEqual(patchedGsm.encode(text, table), originalGsm.encode(text, table));
      }),
      { numRuns: 1000 },
    );
  });
});
