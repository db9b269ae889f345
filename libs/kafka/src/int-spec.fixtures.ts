// Shared by this library's integration specs (which cannot use @sms/testing: it depends on this library).
import type { AcceptedPayload } from '@sms/contracts';

export const brokers = (): string[] => {
  const value = process.env.KAFKA_BROKERS;
  if (!value) throw new Error('KAFKA_BROKERS is not set: run through `npm test`');
  return value.split(',');
};

/** A valid accepted payload; `overrides` changes what a test cares about. */
export const acceptedPayload = (overrides: Partial<AcceptedPayload> = {}): AcceptedPayload => ({
  to: '+447911000001',
  from: 'ACME',
  body: 'hi',
  trafficClass: 'transactional',
  encoding: 'GSM-7',
  segments: 1,
  validUntil: new Date(Date.now() + 3600_000).toISOString(),
  acceptedAt: new Date().toISOString(),
  sandbox: false,
  ...overrides,
});

export const waitUntil = async (check: () => boolean, what: string, ms = 20000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
