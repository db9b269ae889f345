// User-data helpers: GSM 03.38 default alphabet, UDH parsing, data_coding -> text, MO splitting.
// Self-contained on purpose: the simulator must not move when the gateway's text library changes.

/** GSM 03.38 default alphabet, one septet per index (0x1B is the escape to the extension table). */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

const GSM_EXTENSION: ReadonlyArray<readonly [number, string]> = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
];

const GSM_ESCAPE = 0x1b;
const basicEncode = new Map<string, number>([...GSM_BASIC].map((ch, i) => [ch, i]));
const extensionDecode = new Map<number, string>(GSM_EXTENSION);
const extensionEncode = new Map<string, number>(GSM_EXTENSION.map(([code, ch]) => [ch, code]));

export const GSM_BASIC_ALPHABET = GSM_BASIC;

/** Decodes unpacked GSM 7-bit (one septet per octet, as SMPP carries data_coding 0). */
export function decodeGsm7(octets: Uint8Array): string {
  let out = '';
  for (let i = 0; i < octets.length; i++) {
    const septet = (octets[i] as number) & 0x7f;
    if (septet === GSM_ESCAPE && i + 1 < octets.length) {
      const ext = extensionDecode.get((octets[i + 1] as number) & 0x7f);
      if (ext !== undefined) {
        out += ext;
        i++;
        continue;
      }
      // Unknown escape: the spec says show the basic character, which for 0x1B is a space.
      out += ' ';
      continue;
    }
    out += GSM_BASIC[septet] as string;
  }
  return out;
}

/** One entry per character (1 or 2 septets), or null when the text needs UCS-2. */
export function encodeGsm7Chars(text: string): number[][] | null {
  const chars: number[][] = [];
  for (const ch of text) {
    const basic = basicEncode.get(ch);
    if (basic !== undefined && basic !== GSM_ESCAPE) {
      chars.push([basic]);
      continue;
    }
    const ext = extensionEncode.get(ch);
    if (ext === undefined) return null;
    chars.push([GSM_ESCAPE, ext]);
  }
  return chars;
}

/**
 * Text of a message part given SMPP data_coding (§5.2.19), or null for binary data.
 * Values 0-15 use SMPP's table; 0xF0-0xFF use the GSM 03.38 message-class group.
 */
export function decodeUserData(dataCoding: number, octets: Buffer): string | null {
  if ((dataCoding & 0xf0) === 0xf0) return dataCoding & 0x04 ? null : decodeGsm7(octets);
  switch (dataCoding) {
    case 0x00:
      return decodeGsm7(octets);
    case 0x01: // IA5 / ASCII
    case 0x03: // Latin-1
      return octets.toString('latin1');
    case 0x08: {
      const even = octets.length - (octets.length % 2);
      const swapped = Buffer.from(octets.subarray(0, even));
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    default:
      return null;
  }
}

export interface UdhElement {
  iei: number;
  data: string; // hex
}

export interface ConcatInfo {
  ref: number;
  total: number;
  seq: number;
  scheme: 'udh8' | 'udh16' | 'sar';
}

export interface UdhInfo {
  /** The whole header including the UDHL octet, hex. */
  hex: string;
  elements: UdhElement[];
  concat: ConcatInfo | null;
}

/** Splits a user-data block that starts with a UDH; null when the header is malformed. */
export function parseUdh(userData: Buffer): { udh: UdhInfo; rest: Buffer } | null {
  if (userData.length < 1) return null;
  const udhl = userData[0] as number;
  if (udhl + 1 > userData.length) return null;
  const elements: UdhElement[] = [];
  let concat: ConcatInfo | null = null;
  let i = 1;
  while (i < udhl + 1) {
    if (i + 2 > udhl + 1) return null;
    const iei = userData[i] as number;
    const length = userData[i + 1] as number;
    const data = userData.subarray(i + 2, i + 2 + length);
    if (i + 2 + length > udhl + 1) return null;
    elements.push({ iei, data: data.toString('hex') });
    if (iei === 0x00 && length === 3) {
      concat = { ref: data[0] as number, total: data[1] as number, seq: data[2] as number, scheme: 'udh8' };
    } else if (iei === 0x08 && length === 4) {
      concat = {
        ref: data.readUInt16BE(0),
        total: data[2] as number,
        seq: data[3] as number,
        scheme: 'udh16',
      };
    }
    i += 2 + length;
  }
  return {
    udh: { hex: userData.subarray(0, udhl + 1).toString('hex'), elements, concat },
    rest: userData.subarray(udhl + 1),
  };
}

/**
 * Characters that are the same octet in ASCII and in GSM 03.38, so a receipt's `text:` field decodes
 * identically whichever of the two the ESME assumes for data_coding 0. Everything else becomes '?'.
 */
const RECEIPT_SAFE = /[^A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]/g;

export function receiptText(text: string | null): string {
  if (text === null) return '';
  return [...text].slice(0, 20).join('').replace(RECEIPT_SAFE, '?');
}

export interface MoPart {
  dataCoding: number;
  esmClass: number;
  shortMessage: Buffer;
}

const UDHI = 0x40;

/**
 * Encodes mobile-originated text as a handset would: GSM 7-bit when possible (160 / 153 per part),
 * UCS-2 otherwise (70 / 67 per part), long texts as 8-bit-reference concatenated parts.
 */
export function buildMoParts(text: string, ref: number): MoPart[] {
  const gsm = encodeGsm7Chars(text);
  if (gsm !== null) {
    const septets = gsm.reduce((n, ch) => n + ch.length, 0);
    if (septets <= 160) return [{ dataCoding: 0x00, esmClass: 0, shortMessage: Buffer.from(gsm.flat()) }];
    return withConcatUdh(chunk(gsm, 153), 0x00, ref);
  }
  // UCS-2 code units grouped so a surrogate pair is never split across parts.
  const units: number[][] = [];
  for (const ch of text) {
    const unitsOfChar: number[] = [];
    for (let i = 0; i < ch.length; i++) unitsOfChar.push(ch.charCodeAt(i));
    units.push(unitsOfChar.flatMap((u) => [u >> 8, u & 0xff]));
  }
  if (text.length <= 70) return [{ dataCoding: 0x08, esmClass: 0, shortMessage: Buffer.from(units.flat()) }];
  return withConcatUdh(chunk(units, 134), 0x08, ref);
}

/** Groups characters (arrays of octets) into parts of at most `limit` octets. */
function chunk(chars: number[][], limit: number): number[][] {
  const parts: number[][] = [];
  let current: number[] = [];
  for (const ch of chars) {
    if (current.length + ch.length > limit) {
      parts.push(current);
      current = [];
    }
    current.push(...ch);
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

function withConcatUdh(parts: number[][], dataCoding: number, ref: number): MoPart[] {
  return parts.map((octets, i) => ({
    dataCoding,
    esmClass: UDHI,
    shortMessage: Buffer.from([0x05, 0x00, 0x03, ref & 0xff, parts.length, i + 1, ...octets]),
  }));
}
