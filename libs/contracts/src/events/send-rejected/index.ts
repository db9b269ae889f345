import { z } from 'zod';
import { defineEvent } from '../../contract.js';

/** Answer to a send-request that failed validation: machine-readable reasons and the request's event id. */
export const sendRejectedPayload = z.object({
  requestEventId: z.string().max(128),
  reasons: z
    .array(z.object({ field: z.string(), code: z.string(), message: z.string() }))
    .min(1),
});
export type SendRejectedPayload = z.infer<typeof sendRejectedPayload>;

export const SendRejectedV1 = defineEvent({
  topic: 'sms.public.send-rejected.v1',
  type: 'sms.send-rejected',
  version: 1,
  partitions: 3,
  keyDescription: 'tenant id',
  keyOf: (e) => e.tenantId,
  payload: sendRejectedPayload,
  requiresMessageId: false,
});
