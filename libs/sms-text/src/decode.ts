import { decodeGsm7, gsm7FillBits, unpackGsm7 } from './gsm7.js';
import { decodeUcs2 } from './ucs2.js';

export interface ConcatInfo {
  reference: number;
  total: number;
  seq: number;
  referenceBits: 8 | 16;
}

export interface UserDataHeader {
  /** Octets the header takes, UDHL octet included. */
  octets: number;
  elements: { iei: number; data: Uint8Array }[];
  /** Present when the header has a concatenation element (IEI 0x00 or 0x08). */
  concat?: ConcatInfo;
}

/**
 * Splits user data that starts with a UDH (esm_class UDHI set) into header and body. Returns undefined
 * when the header is malformed (UDHL past the end, an element overrunning it).
 */
export function parseUdh(userData: Uint8Array): { header: UserDataHeader; body: Uint8Array } | undefined {
  if (userData.length === 0) return undefined;
  const udhl = userData[0]!;
  const octets = udhl + 1;
  if (octets > userData.length) return undefined;
  const elements: { iei: number; data: Uint8Array }[] = [];
  let concat: ConcatInfo | undefined;
  let offset = 1;
  while (offset < octets) {
    if (offset + 2 > octets) return undefined;
    const iei = userData[offset]!;
    const length = userData[offset + 1]!;
    const start = offset + 2;
    if (start + length > octets) return undefined;
    const data = userData.subarray(start, start + length);
    elements.push({ iei, data });
    if (iei === 0x00 && length === 3) {
      concat = { reference: data[0]!, total: data[1]!, seq: data[2]!, referenceBits: 8 };
    } else if (iei === 0x08 && length === 4) {
      concat = { reference: (data[0]! << 8) | data[1]!, total: data[2]!, seq: data[3]!, referenceBits: 16 };
    }
    offset = start + length;
  }
  const header: UserDataHeader = concat ? { octets, elements, concat } : { octets, elements };
  return { header, body: userData.subarray(octets) };
}

export type TextAlphabet = 'GSM-7' | 'UCS-2' | 'ASCII' | 'LATIN-1' | 'binary';

/**
 * The alphabet an SMPP data_coding value names: 0 SMSC default (taken as GSM 03.38), 1 IA5/ASCII,
 * 3 Latin-1, 8 UCS-2, the 0xF0 message-class group (bit 2 = 8-bit data) and the GSM general data coding
 * group 0x00-0x3F (bits 3-2). Everything else is binary.
 */
export function alphabetOf(dataCoding: number): TextAlphabet {
  switch (dataCoding) {
    case 0x00:
      return 'GSM-7';
    case 0x01:
      return 'ASCII';
    case 0x03:
      return 'LATIN-1';
    case 0x08:
      return 'UCS-2';
  }
  if ((dataCoding & 0xf0) === 0xf0) return dataCoding & 0x04 ? 'binary' : 'GSM-7';
  if (dataCoding >= 0x10 && dataCoding <= 0x3f) {
    const alphabet = (dataCoding >> 2) & 0x03;
    return alphabet === 0 ? 'GSM-7' : alphabet === 2 ? 'UCS-2' : 'binary';
  }
  return 'binary';
}

function fromCodes(bytes: Uint8Array, mask: number): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]! & mask);
  return text;
}

export interface DecodeShortMessageOptions {
  dataCoding: number;
  /** esm_class has UDHI (0x40): the bytes start with a user data header. */
  udhi?: boolean;
  /** GSM-7 bytes are packed 8-into-7 (rare over SMPP). */
  packed?: boolean;
}

export interface DecodedShortMessage {
  alphabet: TextAlphabet;
  /** Undefined for binary data. */
  text?: string;
  udh?: UserDataHeader;
}

/** Decodes a received short_message or message_payload into text (for MO messages and receipt texts). */
export function decodeShortMessage(
  bytes: Uint8Array,
  options: DecodeShortMessageOptions,
): DecodedShortMessage {
  let body = bytes;
  let udh: UserDataHeader | undefined;
  if (options.udhi) {
    const parsed = parseUdh(bytes);
    if (parsed) {
      udh = parsed.header;
      body = parsed.body;
    }
  }
  const alphabet = alphabetOf(options.dataCoding);
  let text: string | undefined;
  switch (alphabet) {
    case 'GSM-7':
      text = decodeGsm7(
        options.packed ? unpackGsm7(body, undefined, udh ? gsm7FillBits(udh.octets) : 0) : body,
      );
      break;
    case 'UCS-2':
      text = decodeUcs2(body);
      break;
    case 'ASCII':
      text = fromCodes(body, 0x7f);
      break;
    case 'LATIN-1':
      text = fromCodes(body, 0xff);
      break;
    case 'binary':
      text = undefined;
      break;
  }
  const result: DecodedShortMessage = { alphabet };
  if (text !== undefined) result.text = text;
  if (udh) result.udh = udh;
  return result;
}
