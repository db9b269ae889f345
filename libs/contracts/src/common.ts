import { z } from 'zod';

export const trafficClasses = ['otp', 'transactional', 'promotional'] as const;
export const trafficClassSchema = z.enum(trafficClasses);
export type TrafficClass = z.infer<typeof trafficClassSchema>;

/**
 * Message lifecycle. `delivered`, `undelivered`, `rejected`, `expired`, `failed` and `canceled` are final:
 * once reached, a message never moves again.
 */
export const messageStatuses = [
  'accepted',
  'scheduled',
  'routed',
  'submitted',
  'delivered',
  'undelivered',
  'rejected',
  'expired',
  'failed',
  'canceled',
] as const;
export const messageStatusSchema = z.enum(messageStatuses);
export type MessageStatus = z.infer<typeof messageStatusSchema>;

export const finalStatuses: ReadonlySet<MessageStatus> = new Set([
  'delivered',
  'undelivered',
  'rejected',
  'expired',
  'failed',
  'canceled',
]);

export function isFinalStatus(status: MessageStatus): boolean {
  return finalStatuses.has(status);
}

/**
 * Progress rank used to apply status events monotonically when they may arrive out of order
 * (they come from several producers). Every final status shares the top rank, so the first final wins.
 */
export function statusRank(status: MessageStatus): number {
  switch (status) {
    case 'accepted':
      return 0;
    case 'scheduled':
      return 1;
    case 'routed':
      return 2;
    case 'submitted':
      return 3;
    default:
      return 10;
  }
}

export const encodingSchema = z.enum(['GSM-7', 'UCS-2']);
export type Encoding = z.infer<typeof encodingSchema>;

/** Reason for a transition: our taxonomy code, and the carrier's raw code kept beside it. */
export const reasonSchema = z.object({
  code: z.string().min(1).max(64),
  message: z.string().max(500).optional(),
  carrierCode: z.string().max(64).optional(),
});
export type Reason = z.infer<typeof reasonSchema>;

/** E.164 as carried on internal topics: validated at ingest, re-checked cheaply here. */
export const e164Schema = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number like +447700900123');
export const senderSchema = z.string().min(1).max(16);
export const bodySchema = z.string().min(1).max(10_000);
export const httpUrlSchema = z.url({ protocol: /^https?$/ }).max(2048);
