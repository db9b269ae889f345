import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HTTP carrier receipts: the JSON a carrier POSTs to `/v1/carriers/{carrierId}/receipts`, turned into the
 * same raw receipt an SMPP bind produces (message_state TLV + standard receipt text), so one parser and one
 * status machine serve both. Pure: no I/O.
 *
 * Body: one receipt object or an array of at most 1000:
 *   { "carrierMessageId": "abc123", "status": "delivered", "errorCode": "000", "doneAt": "2026-01-01T12:00:00Z" }
 * `status` is either our name or the SMPP stat a carrier uses, case-insensitive (see `httpStatuses`).
 * An unknown status is not an error: the receipt is kept with its raw stat and recorded as unparseable.
 */

export interface NormalisedHttpReceipt {
  carrierMessageId: string;
  /** SMPP message_state for a known status; absent for an unknown one (the text then decides). */
  messageState?: number;
  networkErrorCode?: string;
  /** `id:… done date:… stat:… err:…`, as an SMPP receipt would carry it. */
  text: string;
}

export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

export const MAX_RECEIPTS_PER_REQUEST = 1000;

/** Accepted `status` values -> [SMPP message_state, SMPP stat]. */
export const httpStatuses: ReadonlyMap<string, readonly [number, string]> = new Map([
  ['DELIVERED', [2, 'DELIVRD']],
  ['DELIVRD', [2, 'DELIVRD']],
  ['UNDELIVERED', [5, 'UNDELIV']],
  ['UNDELIVERABLE', [5, 'UNDELIV']],
  ['UNDELIV', [5, 'UNDELIV']],
  ['FAILED', [5, 'UNDELIV']],
  ['EXPIRED', [3, 'EXPIRED']],
  ['REJECTED', [8, 'REJECTD']],
  ['REJECTD', [8, 'REJECTD']],
  ['DELETED', [4, 'DELETED']],
  ['UNKNOWN', [7, 'UNKNOWN']],
  ['ACCEPTED', [6, 'ACCEPTD']],
  ['ACCEPTD', [6, 'ACCEPTD']],
  ['ENROUTE', [1, 'ENROUTE']],
  ['SENT', [1, 'ENROUTE']],
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Receipt-text values must be one token; anything else a carrier sends is replaced, never interpreted. */
const token = (v: string, max: number) => v.trim().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, max);

/**
 * The correlation key as carrier-dispatch writes it for submit responses and SMPP receipts (its default
 * `as-is` format: trimmed, lower case, no leading zeros), so an HTTP receipt matches the submitted part
 * however the carrier cases or pads the id. Copied from carrier-dispatch (services never import each other).
 */
export function normaliseCarrierMessageId(raw: string): string {
  return raw.trim().toLowerCase().replace(/^0+(?=\S)/, '');
}

/** SMPP receipt date `YYMMDDhhmm` (UTC). */
function smppDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(date.getUTCFullYear() % 100)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}`;
}

export function normaliseHttpReceipts(body: unknown): { ok: true; receipts: NormalisedHttpReceipt[] } | { ok: false; problems: FieldProblem[] } {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0 || items.length > MAX_RECEIPTS_PER_REQUEST) {
    return { ok: false, problems: [{ field: '(body)', code: 'invalid_size', message: `1 to ${MAX_RECEIPTS_PER_REQUEST} receipts` }] };
  }
  const problems: FieldProblem[] = [];
  const receipts: NormalisedHttpReceipt[] = [];
  items.forEach((item, i) => {
    const at = (field: string) => (Array.isArray(body) ? `[${i}].${field}` : field);
    if (!isObject(item)) {
      problems.push({ field: Array.isArray(body) ? `[${i}]` : '(body)', code: 'invalid_type', message: 'a receipt is a JSON object' });
      return;
    }
    const before = problems.length;
    const rawId = typeof item.carrierMessageId === 'number' ? String(item.carrierMessageId) : item.carrierMessageId;
    if (typeof rawId !== 'string' || rawId.trim().length === 0 || rawId.length > 128 || /\s/.test(rawId.trim())) {
      problems.push({ field: at('carrierMessageId'), code: 'invalid', message: 'a string of 1 to 128 characters without spaces' });
    }
    if (typeof item.status !== 'string' || item.status.trim().length === 0 || item.status.length > 32) {
      problems.push({ field: at('status'), code: 'invalid', message: 'a status of 1 to 32 characters, e.g. delivered' });
    }
    const rawErr = typeof item.errorCode === 'number' ? String(item.errorCode) : item.errorCode;
    if (rawErr !== undefined && rawErr !== null && (typeof rawErr !== 'string' || rawErr.length > 32)) {
      problems.push({ field: at('errorCode'), code: 'invalid', message: 'a string or number of at most 32 characters' });
    }
    let doneAt: Date | undefined;
    if (item.doneAt !== undefined && item.doneAt !== null) {
      doneAt = typeof item.doneAt === 'string' ? new Date(item.doneAt) : undefined;
      if (!doneAt || Number.isNaN(doneAt.getTime())) problems.push({ field: at('doneAt'), code: 'invalid', message: 'an ISO 8601 timestamp' });
    }
    if (problems.length > before) return;
    const rawCarrierId = (rawId as string).trim();
    const carrierMessageId = normaliseCarrierMessageId(rawCarrierId);
    const known = httpStatuses.get((item.status as string).trim().toUpperCase());
    const stat = known ? known[1] : token(item.status as string, 32) || 'UNKNOWN_VALUE';
    const err = typeof rawErr === 'string' && rawErr.trim() !== '' ? token(rawErr, 32) : undefined;
    const text = [`id:${rawCarrierId}`, doneAt ? `done date:${smppDate(doneAt)}` : undefined, `stat:${stat}`, err ? `err:${err}` : undefined]
      .filter(Boolean)
      .join(' ');
    receipts.push({ carrierMessageId, messageState: known?.[0], networkErrorCode: err, text });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, receipts };
}

/**
 * `X-Carrier-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Carrier-Timestamp>.<raw body>")>`, the timestamp
 * in unix seconds within `toleranceS` of now (a captured request cannot be replayed later). Any of the
 * carrier's secrets may match (two during a rotation).
 */
export function verifyCarrierSignature(
  secrets: readonly string[],
  rawBody: Buffer,
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  nowMs: number,
  toleranceS = 300,
): { ok: true } | { ok: false; reason: string } {
  if (!timestampHeader || !/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: 'missing or malformed X-Carrier-Timestamp' };
  if (Math.abs(nowMs / 1000 - Number(timestampHeader)) > toleranceS) return { ok: false, reason: 'timestamp outside the tolerance' };
  const match = signatureHeader ? /^sha256=([0-9a-f]{64})$/i.exec(signatureHeader.trim()) : null;
  if (!match) return { ok: false, reason: 'missing or malformed X-Carrier-Signature' };
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  for (const secret of secrets) {
    const expected = signCarrierBody(secret, timestampHeader, rawBody);
    if (timingSafeEqual(Buffer.from(expected, 'hex'), given)) return { ok: true };
  }
  return { ok: false, reason: 'signature does not match' };
}

export function signCarrierBody(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** `DLR_HTTP_CARRIER_SECRETS`: `carrier-a=secret,carrier-b=secret` (a carrier twice = two valid secrets). */
export function parseCarrierSecrets(value: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const id = eq > 0 ? entry.slice(0, eq).trim() : '';
    const secret = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) throw new Error(`"${id || entry.slice(0, 20)}" is not a carrier id (lowercase letters, digits, dashes)`);
    if (secret.length < 16) throw new Error(`the secret of carrier ${id} must be at least 16 characters`);
    result.set(id, [...(result.get(id) ?? []), secret]);
  }
  return result;
}
