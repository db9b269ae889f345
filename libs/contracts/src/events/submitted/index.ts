import { z } from 'zod';
import { defineEvent, keyByMessageId } from '../../contract.js';
import { trafficClassSchema } from '../../common.js';

/** All parts of a message were accepted by the carrier (submit_sm_resp OK), with each part's carrier id. */
export const submittedPayload = z.object({
  carrierId: z.string().min(1).max(64),
  trafficClass: trafficClassSchema,
  parts: z
    .array(
      z.object({
        index: z.number().int().min(0),
        carrierMessageId: z.string().min(1).max(128),
        submittedAt: z.iso.datetime({ offset: true }),
      }),
    )
    .min(1),
  totalParts: z.number().int().positive(),
  acceptedAt: z.iso.datetime({ offset: true }),
  validUntil: z.iso.datetime({ offset: true }),
  callbackUrl: z.string().max(2048).optional(),
  reference: z.string().max(128).optional(),
});
export type SubmittedPayload = z.infer<typeof submittedPayload>;

export const SubmittedV1 = defineEvent({
  topic: 'sms.internal.submitted.v1',
  type: 'sms.submitted',
  version: 1,
  partitions: 6,
  keyDescription: 'message id',
  keyOf: keyByMessageId,
  payload: submittedPayload,
});
