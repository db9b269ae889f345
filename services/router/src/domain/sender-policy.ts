import type { Reason } from '@sms/contracts';

/** Where sender ids must be registered, and where alphanumeric sender ids do not work at all. */
export interface SenderPolicy {
  registrationRequired: ReadonlySet<string>;
  alphanumericUnsupported: ReadonlySet<string>;
}

export const isAlphanumericSender = (sender: string) => /[A-Za-z]/.test(sender);

/**
 * The refusal for a message from `sender` to `country`, or undefined when it may go. `registration` is the
 * tenant's registration of the sender: undefined when not registered, [] when registered for every country.
 */
export function senderRefusal(policy: SenderPolicy, sender: string, country: string | undefined, registration: string[] | undefined): Reason | undefined {
  if (!country) return undefined;
  if (isAlphanumericSender(sender) && policy.alphanumericUnsupported.has(country)) {
    return { code: 'sender_not_registered', message: `alphanumeric sender ids are not supported in ${country}` };
  }
  if (!policy.registrationRequired.has(country)) return undefined;
  if (registration === undefined) return { code: 'sender_not_registered', message: `sender is not registered for ${country}` };
  if (registration.length > 0 && !registration.includes(country)) {
    return { code: 'sender_not_registered', message: `sender is registered for ${registration.join(', ')}, not ${country}` };
  }
  return undefined;
}
