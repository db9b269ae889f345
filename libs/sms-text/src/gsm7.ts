/**
 * GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.
 *
 * 0x09 is the capital C-cedilla the specification prints (as the `smpp` package and Kannel also read it);
 * the lowercase 'ç' is therefore not GSM-7 here, so nothing is silently changed in transit.
 * 0x1B is the escape to the extension table, not a character: a text containing U+001B is not GSM-7.
 */
const BASIC_TABLE =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

export const GSM7_ESCAPE = 0x1b;

/** Extension table: character -> septet that follows ESC. Each costs two septets. */
const EXTENSION_TABLE: ReadonlyArray<readonly [string, number]> = [
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
];

const basicEncode = new Map<string, number>();
for (let septet = 0; septet < BASIC_TABLE.length; septet++) {
  if (septet !== GSM7_ESCAPE) basicEncode.set(BASIC_TABLE[septet]!, septet);
}
const extensionEncode = new Map<string, number>(EXTENSION_TABLE);
/** Every GSM 03.38 character is one UTF-16 code unit, so a septet decodes to one char code. */
const BASIC_CODES = Uint16Array.from({ length: BASIC_TABLE.length }, (_, septet) => BASIC_TABLE.charCodeAt(septet));
const EXTENSION_CODES = new Int32Array(128).fill(-1);
for (const [ch, septet] of EXTENSION_TABLE) EXTENSION_CODES[septet] = ch.charCodeAt(0);

/** The 127 characters of the basic table (ESC excluded), in septet order. */
export const GSM7_BASIC_CHARS: readonly string[] = [...basicEncode.keys()];
/** The characters reachable through ESC (each counts as two septets). */
export const GSM7_EXTENSION_CHARS: readonly string[] = EXTENSION_TABLE.map(([ch]) => ch);

/** Septets one character costs in GSM-7 (1 basic, 2 extension), or undefined when it is not GSM-7. */
export function gsm7SeptetCost(char: string): 1 | 2 | undefined {
  if (basicEncode.has(char)) return 1;
  if (extensionEncode.has(char)) return 2;
  return undefined;
}

/** True when every character of `text` is in the basic or extension table. */
export function isGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (gsm7SeptetCost(text[i]!) === undefined) return false;
  }
  return true;
}

/** Number of septets `text` takes in GSM-7 (extension characters count two); undefined if not GSM-7. */
export function gsm7Length(text: string): number | undefined {
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    const cost = gsm7SeptetCost(text[i]!);
    if (cost === undefined) return undefined;
    septets += cost;
  }
  return septets;
}

/**
 * Unpacked septets, one per byte (values 0..127): what SMPP data_coding 0 carries in practice.
 * Throws a RangeError naming the offset of the first character outside the GSM-7 tables.
 */
export function encodeGsm7(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const basic = basicEncode.get(ch);
    if (basic !== undefined) {
      out.push(basic);
      continue;
    }
    const ext = extensionEncode.get(ch);
    if (ext !== undefined) {
      out.push(GSM7_ESCAPE, ext);
      continue;
    }
    throw new RangeError(
      `character U+${ch.charCodeAt(0).toString(16).padStart(4, '0')} at offset ${i} is not GSM-7`,
    );
  }
  return Uint8Array.from(out);
}

/**
 * Decodes unpacked septets. The top bit of each byte is ignored; ESC followed by a code the extension table
 * does not define shows the basic character (23.038 says so), and a trailing lone ESC is dropped.
 */
export function decodeGsm7(septets: Uint8Array): string {
  // Char codes first and one string at the end: a concatenation per septet made a string per character, which
  // made decoding receipt texts the largest allocation site of carrier-dispatch's receipt path.
  const codes = new Uint16Array(septets.length);
  let length = 0;
  for (let i = 0; i < septets.length; i++) {
    const septet = septets[i]! & 0x7f;
    if (septet === GSM7_ESCAPE) {
      if (i + 1 >= septets.length) break;
      const next = septets[++i]! & 0x7f;
      const ext = EXTENSION_CODES[next]!;
      // ESC ESC is reserved for a further extension table; show a space rather than a control character.
      codes[length++] = ext >= 0 ? ext : next === GSM7_ESCAPE ? 0x20 : BASIC_CODES[next]!;
      continue;
    }
    codes[length++] = BASIC_CODES[septet]!;
  }
  return stringOfCodes(codes, length);
}

function stringOfCodes(codes: Uint16Array, length: number): string {
  // In chunks: String.fromCharCode takes its codes as arguments, and a call's argument count is bounded.
  let text = '';
  for (let start = 0; start < length; start += 4096) {
    text += String.fromCharCode.apply(null, codes.subarray(start, Math.min(length, start + 4096)) as unknown as number[]);
  }
  return text;
}

/** Fill bits needed after a user data header of `udhOctets` octets so the text starts on a septet boundary. */
export function gsm7FillBits(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}

/**
 * Packs septets 8-into-7 (least significant bit first), after `fillBits` zero bits. Pass
 * `gsm7FillBits(udh.length)` when the result goes right after a UDH.
 */
export function packGsm7(septets: Uint8Array, fillBits = 0): Uint8Array {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6)
    throw new RangeError('fillBits must be 0..6');
  const out = new Uint8Array(Math.ceil((fillBits + septets.length * 7) / 8));
  let bit = fillBits;
  for (let i = 0; i < septets.length; i++) {
    const septet = septets[i]! & 0x7f;
    const index = bit >> 3;
    const shift = bit & 7;
    out[index] = out[index]! | ((septet << shift) & 0xff);
    if (shift > 1) out[index + 1] = out[index + 1]! | (septet >> (8 - shift));
    bit += 7;
  }
  return out;
}

/**
 * Unpacks `septetCount` septets (default: as many as fit, which may yield a trailing '@' when the packer left
 * 7 spare bits; pass the count from the UDL to avoid that) after `fillBits` bits.
 */
export function unpackGsm7(packed: Uint8Array, septetCount?: number, fillBits = 0): Uint8Array {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6)
    throw new RangeError('fillBits must be 0..6');
  const available = Math.floor((packed.length * 8 - fillBits) / 7);
  const count = septetCount === undefined ? Math.max(0, available) : septetCount;
  if (count > available) throw new RangeError(`${packed.length} octets hold at most ${available} septets`);
  const out = new Uint8Array(count);
  let bit = fillBits;
  for (let i = 0; i < count; i++) {
    const index = bit >> 3;
    const shift = bit & 7;
    let value = packed[index]! >> shift;
    if (shift > 1) value |= packed[index + 1]! << (8 - shift);
    out[i] = value & 0x7f;
    bit += 7;
  }
  return out;
}
