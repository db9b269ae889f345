/**
 * Phone numbers never appear in logs or span attributes in clear: keep the country-ish prefix and the last
 * two digits so an operator can still tell numbers apart in a support case.
 */
export function maskPhoneNumber(value: string | undefined | null): string {
  if (!value) return '';
  const digits = value.replace(/[^\d+]/g, '');
  if (digits.length <= 5) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 5)}${digits.slice(-2)}`;
}
