/**
 * Carriers write the same message id differently in the submit response and in the receipt (hex vs
 * decimal, upper vs lower case, leading zeros). Both sides are normalised the same way so they match.
 */
export type CarrierIdFormat = 'as-is' | 'hex' | 'decimal';

export function normaliseCarrierMessageId(raw: string, format: CarrierIdFormat = 'as-is'): string {
  const trimmed = raw.trim();
  if (format === 'decimal' && /^\d+$/.test(trimmed)) return BigInt(trimmed).toString(10);
  if (format === 'hex' && /^[0-9a-f]+$/i.test(trimmed)) return BigInt(`0x${trimmed}`).toString(16);
  return trimmed.toLowerCase().replace(/^0+(?=.)/, '');
}
