/**
 * Delivery receipt parsing (SMPP 3.4 deliver_sm with esm_class "delivery receipt", or an HTTP carrier's
 * equivalent). Pure: no I/O, never throws; a receipt nobody can read becomes `unparseable` so it is recorded
 * instead of crashing the consumer or being retried forever.
 */

/** Part status carried by a receipt. `accepted` and `enroute` are progress, the rest are final. */
export type ReceiptStatus = 'enroute' | 'accepted' | 'delivered' | 'expired' | 'undelivered' | 'rejected';

export const finalReceiptStatuses: ReadonlySet<ReceiptStatus> = new Set([
  'delivered',
  'expired',
  'undelivered',
  'rejected',
]);

export interface ReceiptInput {
  /** SMPP `message_state` TLV (0x0427), when the carrier sent it. */
  messageState?: number;
  /** SMPP `network_error_code` TLV, as the carrier-dispatch rendered it. */
  networkErrorCode?: string;
  /** The short message text: `id:... sub:... dlvrd:... submit date:... done date:... stat:... err:... text:...`. */
  text: string;
}

/** Fields of the receipt text, raw as the carrier wrote them (absent when it did not). */
export interface ReceiptTextFields {
  id?: string;
  sub?: string;
  dlvrd?: string;
  submitDate?: string;
  doneDate?: string;
  stat?: string;
  err?: string;
  text?: string;
}

export type ParsedReceipt =
  | {
      kind: 'parsed';
      status: ReceiptStatus;
      /** Which part of the receipt decided the status. */
      source: 'tlv' | 'text';
      /** Raw stat as the carrier wrote it (or the SMPP short name of the TLV state when the text had none). */
      stat: string;
      err?: string;
      fields: ReceiptTextFields;
    }
  | {
      kind: 'unparseable';
      /** Kept so an unknown stat value can still be seen in the history. */
      stat?: string;
      err?: string;
      fields: ReceiptTextFields;
    };

/** SMPP 3.4 section 5.2.28 message_state values, with the short stat name carriers use in the text. */
const messageStates: ReadonlyMap<number, { status: ReceiptStatus; stat: string }> = new Map([
  [1, { status: 'enroute', stat: 'ENROUTE' }],
  [2, { status: 'delivered', stat: 'DELIVRD' }],
  [3, { status: 'expired', stat: 'EXPIRED' }],
  [4, { status: 'undelivered', stat: 'DELETED' }],
  [5, { status: 'undelivered', stat: 'UNDELIV' }],
  [6, { status: 'accepted', stat: 'ACCEPTD' }],
  [7, { status: 'undelivered', stat: 'UNKNOWN' }],
  [8, { status: 'rejected', stat: 'REJECTD' }],
]);

/** Text stat values. The long spellings are not SMPP 3.4 Appendix B but are sent by real carriers. */
const statValues: ReadonlyMap<string, ReceiptStatus> = new Map([
  ['DELIVRD', 'delivered'],
  ['DELIVERED', 'delivered'],
  ['EXPIRED', 'expired'],
  ['DELETED', 'undelivered'],
  ['UNDELIV', 'undelivered'],
  ['UNDELIVERABLE', 'undelivered'],
  ['UNKNOWN', 'undelivered'],
  ['REJECTD', 'rejected'],
  ['REJECTED', 'rejected'],
  ['ENROUTE', 'enroute'],
  ['ACCEPTD', 'accepted'],
  ['ACCEPTED', 'accepted'],
]);

export function statusOfStat(stat: string): ReceiptStatus | undefined {
  return statValues.get(stat.trim().toUpperCase());
}

export function statusOfMessageState(state: number): ReceiptStatus | undefined {
  return messageStates.get(state)?.status;
}

// A key only counts at the start or after a separator, so `xid:` or `undelivered:` inside a value never
// starts a field. Carriers differ in case and in how they write the two-word date keys.
const keyPattern = /(?<=^|[\s,;])(id|sub|dlvrd|submit[ _-]?date|done[ _-]?date|stat|err|text)\s*:/gi;

const fieldOfKey = (key: string): keyof ReceiptTextFields => {
  const k = key.toLowerCase().replace(/[ _-]/g, '');
  if (k === 'submitdate') return 'submitDate';
  if (k === 'donedate') return 'doneDate';
  return k as keyof ReceiptTextFields;
};

/** Splits the receipt text into its fields; tolerant of order, case, missing fields and junk between them. */
export function parseReceiptText(text: string): ReceiptTextFields {
  return scan(text).fields;
}

/**
 * The receipt text without the value of its `text:` field, which echoes the start of the message body (an
 * OTP code, a name): receipts are stored and that fragment must not be.
 */
export function redactReceiptText(text: string): string {
  const { textRange } = scan(text);
  if (!textRange) return text;
  const [start, end] = textRange;
  return `${text.slice(0, start)}${start === end ? '' : '[redacted]'}${text.slice(end)}`;
}

function scan(text: string): { fields: ReceiptTextFields; textRange?: [number, number] } {
  const fields: ReceiptTextFields = {};
  let textRange: [number, number] | undefined;
  const keys = [...text.matchAll(keyPattern)].map((m) => ({
    field: fieldOfKey(m[1]!),
    start: m.index,
    valueStart: m.index + m[0].length,
  }));
  for (let i = 0; i < keys.length; i++) {
    const { field, valueStart } = keys[i]!;
    // `text:` carries the first characters of the original message, which may themselves look like
    // `stat:...`; once the stat is known, everything after `text:` is message text.
    const restIsText = field === 'text' && fields.stat !== undefined;
    const end = restIsText ? text.length : (keys[i + 1]?.start ?? text.length);
    if (fields[field] === undefined) {
      const raw = text.slice(valueStart, end);
      const value = raw.trim();
      // Only the free-text field may contain spaces; for the others a second token is junk.
      fields[field] = field === 'text' ? value : (value.split(/\s+/)[0] ?? '');
      if (field === 'text') {
        const leading = raw.length - raw.trimStart().length;
        textRange = [valueStart + leading, valueStart + leading + value.length];
      }
    }
    if (restIsText) break;
  }
  return { fields, textRange };
}

/**
 * Parses a receipt: the `message_state` TLV decides when present and known (it is structured and cannot be
 * garbled by a text template), else the text's `stat`. The raw stat and err are always kept.
 */
export function parseReceipt(input: ReceiptInput): ParsedReceipt {
  const fields = safeFields(input.text);
  const err = nonEmpty(fields.err) ?? nonEmpty(input.networkErrorCode);
  const rawStat = nonEmpty(fields.stat);
  const fromTlv = input.messageState === undefined ? undefined : messageStates.get(input.messageState);
  if (fromTlv) {
    return {
      kind: 'parsed',
      status: fromTlv.status,
      source: 'tlv',
      stat: rawStat ?? fromTlv.stat,
      err,
      fields,
    };
  }
  const fromText = rawStat === undefined ? undefined : statusOfStat(rawStat);
  if (fromText && rawStat !== undefined) {
    return { kind: 'parsed', status: fromText, source: 'text', stat: rawStat, err, fields };
  }
  return { kind: 'unparseable', stat: rawStat, err, fields };
}

/** The carrier's raw code as it travels in `reason.carrierCode` (max 64 characters): `stat:UNDELIV err:001`. */
export function carrierCodeOf(receipt: { stat?: string; err?: string }): string | undefined {
  const parts: string[] = [];
  if (receipt.stat) parts.push(`stat:${receipt.stat}`);
  if (receipt.err) parts.push(`err:${receipt.err}`);
  return parts.length > 0 ? parts.join(' ').slice(0, 64) : undefined;
}

function safeFields(text: string): ReceiptTextFields {
  try {
    return parseReceiptText(typeof text === 'string' ? text : '');
  } catch {
    // Defensive: parsing is regex-only, but a receipt must never take the consumer down.
    return {};
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
