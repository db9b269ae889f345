import { z } from 'zod';
import { defineEvent } from '../../contract.js';

/** A mobile-originated message (not a receipt), e.g. a STOP keyword the router must honour. */
export const moReceivedPayload = z.object({
  carrierId: z.string().min(1).max(64),
  from: z.string().min(1).max(32),
  to: z.string().min(1).max(32),
  text: z.string().max(2000),
  receivedAt: z.iso.datetime({ offset: true }),
});
export type MoReceivedPayload = z.infer<typeof moReceivedPayload>;

export const MoReceivedV1 = defineEvent({
  topic: 'sms.internal.mo-received.v1',
  type: 'sms.mo-received',
  version: 1,
  partitions: 3,
  keyDescription: 'sender number',
  keyOf: (e) => e.payload.from,
  payload: moReceivedPayload,
  requiresMessageId: false,
});
