/**
 * Carriers write the same message id differently in the submit response and in the receipt (hex vs
 * decimal, upper vs lower case, leading zeros). Both sides are normalised the same way so they match.
 */
export type CarrierIdFormat = 'as-is' | 'hex' | 'decimal';

export function normaliseCarrierMessageId(raw: string, format: CarrierIdFormat = 'as-is'): string {
  const trimmed = raw.trim();
  if (format === 'decimal' && /^\d+$/.test(trimmed)) return BigInt(trimmed).toString(10);
  if (format === 'hex' && /^[0-9a-f]+$/i.test(trimmed)) return BigInt(`0x${trimmed}`).toString(16);
  return trimmed.toLowerCase().replace(/^0+(?=\S)/, '');
}

/** The longest carrier message id the submitted and receipt events carry (their schemas' limit). */
export const MAX_CARRIER_MESSAGE_ID_LENGTH = 128;

/**
 * The id a part accepted by the carrier is recorded and published under. A carrier that accepts a part
 * (command_status 0) but answers with an empty message_id, or one longer than the events allow, still has the
 * message: it must never be sent again, and its `submitted` event must still be publishable (an event the
 * schema refuses would fail the batch on every redelivery: a poison message that stalls the partition). Such a
 * part gets an id no real receipt carries (`unidentified:<message id>:<part>`), so its status ends by the
 * receipt time-to-live instead. Idempotent: a recorded id maps to itself.
 */
export function recordableCarrierMessageId(
  raw: string,
  messageId: string,
  partIndex: number,
  format: CarrierIdFormat = 'as-is',
): { id: string; identified: boolean } {
  const id = normaliseCarrierMessageId(raw, format);
  if (id.length > 0 && id.length <= MAX_CARRIER_MESSAGE_ID_LENGTH) return { id, identified: true };
  return { id: `unidentified:${messageId}:${partIndex}`, identified: false };
}
