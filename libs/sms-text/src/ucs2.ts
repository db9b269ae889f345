/**
 * UCS-2 as SMSCs actually use it: UTF-16 big-endian, so characters outside the BMP travel as surrogate pairs
 * (two units) and handsets render them.
 */
export function encodeUcs2(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[i * 2] = unit >> 8;
    out[i * 2 + 1] = unit & 0xff;
  }
  return out;
}

/** Decodes UTF-16BE. A trailing odd byte (a truncated unit from a broken sender) is ignored, not thrown on. */
export function decodeUcs2(bytes: Uint8Array): string {
  const units = bytes.length >> 1;
  let text = '';
  // Chunked so a long message_payload does not blow the argument limit of fromCharCode.
  const chunk = 4096;
  for (let start = 0; start < units; start += chunk) {
    const end = Math.min(units, start + chunk);
    const codes = new Array<number>(end - start);
    for (let i = start; i < end; i++) codes[i - start] = (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!;
    text += String.fromCharCode(...codes);
  }
  return text;
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

export function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
