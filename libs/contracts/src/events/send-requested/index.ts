import { z } from 'zod';
import { defineEvent } from '../../contract.js';
import { bodySchema, trafficClassSchema } from '../../common.js';

/**
 * Public entry point for upstream services that prefer Kafka to REST. Same fields and the same validation
 * as `POST /v1/messages`; the envelope's eventId is the idempotency key. `to`/`from` are validated by
 * ingest (E.164, sender rules) so that a bad number is answered on the rejected topic with a reason code,
 * not dropped here as a malformed event.
 */
export const sendRequestedPayload = z.strictObject({
  to: z.string().min(1).max(32),
  from: z.string().min(1).max(32),
  body: bodySchema,
  trafficClass: trafficClassSchema.default('transactional'),
  callbackUrl: z.string().max(2048).optional(),
  validityPeriod: z.number().int().positive().max(7 * 24 * 3600).optional(),
  sendAt: z.iso.datetime({ offset: true }).optional(),
  reference: z.string().max(128).optional(),
  metadata: z.record(z.string(), z.string().max(512)).optional(),
});
export type SendRequestedPayload = z.infer<typeof sendRequestedPayload>;

export const SendRequestedV1 = defineEvent({
  topic: 'sms.public.send-requested.v1',
  type: 'sms.send-requested',
  version: 1,
  partitions: 6,
  keyDescription: 'producer-chosen; we recommend the tenant id or the reference. Ordering between sends is not promised.',
  keyOf: (e) => e.tenantId,
  payload: sendRequestedPayload,
  requiresMessageId: false,
});
