import { encodeGsm7, gsm7FillBits, gsm7SeptetCost, packGsm7 } from './gsm7.js';
import { encodeUcs2 } from './ucs2.js';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/**
 * How a long message is carried over SMPP:
 * - `udh8`: 6-octet UDH with an 8-bit reference (IEI 0x00) in each short_message, esm_class UDHI set.
 * - `udh16`: 7-octet UDH with a 16-bit reference (IEI 0x08); one septet / unit less per part.
 * - `sar`: sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs; no UDH, so full 160/70 per part.
 * - `payload`: the whole text in one message_payload TLV; the SMSC splits it.
 */
export type ConcatMode = 'udh8' | 'udh16' | 'sar' | 'payload';

/** SMPP data_coding: 0 = SMSC default alphabet (GSM 03.38), 8 = UCS-2. */
export type DataCoding = 0 | 8;

export interface SegmentLimits {
  /** Units (septets or UTF-16 units) that fit in a message sent as a single part. */
  single: number;
  /** Units that fit in each part of a multipart message. */
  multi: number;
}

const LIMITS: Record<SmsEncoding, Record<Exclude<ConcatMode, 'payload'>, SegmentLimits>> = {
  'GSM-7': {
    udh8: { single: 160, multi: 153 },
    udh16: { single: 160, multi: 152 },
    sar: { single: 160, multi: 160 },
  },
  'UCS-2': {
    udh8: { single: 70, multi: 67 },
    udh16: { single: 70, multi: 66 },
    sar: { single: 70, multi: 70 },
  },
};

/** 255 is the most a one-octet "total parts" field can say. */
export const MAX_PARTS = 255;
/** message_payload's length field is 16 bits. */
export const MAX_MESSAGE_PAYLOAD_OCTETS = 65535;

/**
 * Per-part limits. For `payload` the SMSC does the splitting, most likely with an 8-bit UDH, so those are
 * the limits reported (they are what the carrier will bill).
 */
export function segmentLimits(encoding: SmsEncoding, concat: ConcatMode = 'udh8'): SegmentLimits {
  return LIMITS[encoding][concat === 'payload' ? 'udh8' : concat];
}

export interface TextAnalysis {
  encoding: SmsEncoding;
  /** Septets for GSM-7 (an extension character counts two), UTF-16 code units for UCS-2 (an emoji counts two). */
  units: number;
  /** Number of SMS the text takes; an empty text still takes one. */
  segments: number;
  /** Units per segment at this segment count: 160/70 for one segment, 153/67 (udh8) etc. for several. */
  perSegment: number;
}

export interface AnalyzeOptions {
  concat?: ConcatMode;
}

/** Characters of `body` as the splitter sees them: UTF-16 code points, a surrogate pair staying whole. */
function unitsOf(body: string, encoding: SmsEncoding): { chars: string[]; costs: number[] } {
  const chars: string[] = [];
  const costs: number[] = [];
  if (encoding === 'GSM-7') {
    for (let i = 0; i < body.length; i++) {
      chars.push(body[i]!);
      costs.push(gsm7SeptetCost(body[i]!)!);
    }
  } else {
    // for..of walks code points, yielding a pair as one string of length 2 and a lone surrogate by itself.
    for (const ch of body) {
      chars.push(ch);
      costs.push(ch.length);
    }
  }
  return { chars, costs };
}

function detectEncoding(body: string): SmsEncoding {
  for (let i = 0; i < body.length; i++) if (gsm7SeptetCost(body[i]!) === undefined) return 'UCS-2';
  return 'GSM-7';
}

/**
 * Greedy split into chunks of at most `limit` units, never cutting a character: an escape sequence and a
 * surrogate pair are one character here. Returns [start, end) indexes into `chars` and each chunk's units.
 */
function chunk(costs: readonly number[], limit: number): { start: number; end: number; units: number }[] {
  const chunks: { start: number; end: number; units: number }[] = [];
  let start = 0;
  let units = 0;
  for (let i = 0; i < costs.length; i++) {
    const cost = costs[i]!;
    if (units + cost > limit) {
      chunks.push({ start, end: i, units });
      start = i;
      units = 0;
    }
    units += cost;
  }
  chunks.push({ start, end: costs.length, units });
  return chunks;
}

interface Plan {
  encoding: SmsEncoding;
  chars: string[];
  units: number;
  limits: SegmentLimits;
  chunks: { start: number; end: number; units: number }[];
}

function plan(body: string, concat: ConcatMode): Plan {
  const encoding = detectEncoding(body);
  const { chars, costs } = unitsOf(body, encoding);
  const units = costs.reduce((a, b) => a + b, 0);
  const limits = segmentLimits(encoding, concat);
  const chunks =
    units <= limits.single ? [{ start: 0, end: chars.length, units }] : chunk(costs, limits.multi);
  return { encoding, chars, units, limits, chunks };
}

/** Encoding, length and SMS count of `body` (GSM-7 when every character is in the GSM tables, else UCS-2). */
export function analyze(body: string, options: AnalyzeOptions = {}): TextAnalysis {
  const p = plan(body, options.concat ?? 'udh8');
  const segments = p.chunks.length;
  return {
    encoding: p.encoding,
    units: p.units,
    segments,
    perSegment: segments === 1 ? p.limits.single : p.limits.multi,
  };
}

export interface SarParams {
  refNum: number;
  totalSegments: number;
  seqNum: number;
}

export interface MessagePart {
  /** Bytes for short_message: the UDH (when esmClassUdhi) then the encoded text. Empty when messagePayload is set. */
  shortMessage: Uint8Array;
  /** Set bit 0x40 (UDHI) in esm_class for this part. */
  esmClassUdhi: boolean;
  /** The SAR TLVs to send with this part (concat 'sar' and more than one part). */
  sar?: SarParams;
  /** Bytes for the message_payload TLV (concat 'payload' when the text does not fit one SMS). */
  messagePayload?: Uint8Array;
  /** The slice of the original text this part carries. */
  text: string;
  /** Septets or UTF-16 units of `text`. */
  units: number;
}

export interface SplitResult {
  encoding: SmsEncoding;
  dataCoding: DataCoding;
  parts: MessagePart[];
}

export interface SplitOptions {
  concat: ConcatMode;
  /**
   * Concatenation reference shared by all parts: 0..255 for udh8, 0..65535 for udh16 and sar. Required when
   * the text needs several parts (a constant would let a handset mix up two messages from the same sender).
   */
  reference?: number;
  /**
   * Pack GSM-7 septets 8-into-7 (with fill bits after the UDH). Off by default: SMSCs expect data_coding 0
   * as one septet per octet and pack for the air interface themselves.
   */
  packed?: boolean;
}

function concatUdh(concat: 'udh8' | 'udh16', reference: number, total: number, seq: number): Uint8Array {
  return concat === 'udh8'
    ? Uint8Array.of(0x05, 0x00, 0x03, reference, total, seq)
    : Uint8Array.of(0x06, 0x08, 0x04, reference >> 8, reference & 0xff, total, seq);
}

function encodeText(text: string, encoding: SmsEncoding, packed: boolean, udhOctets: number): Uint8Array {
  if (encoding === 'UCS-2') return encodeUcs2(text);
  const septets = encodeGsm7(text);
  return packed ? packGsm7(septets, udhOctets === 0 ? 0 : gsm7FillBits(udhOctets)) : septets;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Splits `body` into the submit_sm parts that carry it. A text that fits one SMS is one part without UDH or
 * SAR whatever the mode. Throws RangeError when the text needs more than 255 parts (or more than 64 KiB in
 * message_payload) or when a needed reference is missing or out of range.
 */
export function splitMessage(body: string, options: SplitOptions): SplitResult {
  const { concat } = options;
  const packed = options.packed ?? false;
  const p = plan(body, concat);
  const dataCoding: DataCoding = p.encoding === 'GSM-7' ? 0 : 8;
  const whole = (): MessagePart => ({
    shortMessage: encodeText(body, p.encoding, packed, 0),
    esmClassUdhi: false,
    text: body,
    units: p.units,
  });

  if (p.chunks.length === 1) return { encoding: p.encoding, dataCoding, parts: [whole()] };

  if (concat === 'payload') {
    const messagePayload = encodeText(body, p.encoding, packed, 0);
    if (messagePayload.length > MAX_MESSAGE_PAYLOAD_OCTETS) {
      throw new RangeError(
        `text needs ${messagePayload.length} octets; message_payload holds ${MAX_MESSAGE_PAYLOAD_OCTETS}`,
      );
    }
    return {
      encoding: p.encoding,
      dataCoding,
      parts: [
        { shortMessage: new Uint8Array(0), esmClassUdhi: false, messagePayload, text: body, units: p.units },
      ],
    };
  }

  const total = p.chunks.length;
  if (total > MAX_PARTS)
    throw new RangeError(`text needs ${total} parts; at most ${MAX_PARTS} can be concatenated`);
  const reference = options.reference;
  const maxReference = concat === 'udh8' ? 0xff : 0xffff;
  if (reference === undefined || !Number.isInteger(reference) || reference < 0 || reference > maxReference) {
    throw new RangeError(`concat '${concat}' needs an integer reference in 0..${maxReference}`);
  }

  const parts = p.chunks.map((c, index): MessagePart => {
    const text = p.chars.slice(c.start, c.end).join('');
    const seq = index + 1;
    if (concat === 'sar') {
      return {
        shortMessage: encodeText(text, p.encoding, packed, 0),
        esmClassUdhi: false,
        sar: { refNum: reference, totalSegments: total, seqNum: seq },
        text,
        units: c.units,
      };
    }
    const udh = concatUdh(concat, reference, total, seq);
    return {
      shortMessage: concatBytes(udh, encodeText(text, p.encoding, packed, udh.length)),
      esmClassUdhi: true,
      text,
      units: c.units,
    };
  });
  return { encoding: p.encoding, dataCoding, parts };
}
