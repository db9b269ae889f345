import { z } from 'zod';
import { defineEvent, keyByMessageId } from '../../contract.js';
import { reasonSchema, trafficClassSchema } from '../../common.js';

/**
 * carrier-dispatch could not get a message accepted by a carrier. `disposition` says what may happen next:
 * `failover` (another carrier may not share the problem), `permanent` (no carrier will take it).
 */
export const dispatchFailedPayload = z.object({
  carrierId: z.string().min(1).max(64),
  routeId: z.string().min(1).max(128),
  trafficClass: trafficClassSchema,
  attempt: z.number().int().min(1),
  disposition: z.enum(['failover', 'permanent']),
  finalStatus: z.enum(['rejected', 'failed']),
  reason: reasonSchema,
  callbackUrl: z.string().max(2048).optional(),
  reference: z.string().max(128).optional(),
});
export type DispatchFailedPayload = z.infer<typeof dispatchFailedPayload>;

export const DispatchFailedV1 = defineEvent({
  topic: 'sms.internal.dispatch-failed.v1',
  type: 'sms.dispatch-failed',
  version: 1,
  partitions: 6,
  keyDescription: 'message id',
  keyOf: keyByMessageId,
  payload: dispatchFailedPayload,
});
