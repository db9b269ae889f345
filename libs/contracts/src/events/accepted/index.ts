import { z } from 'zod';
import { defineEvent, keyByMessageId } from '../../contract.js';
import { bodySchema, e164Schema, encodingSchema, senderSchema, trafficClassSchema } from '../../common.js';

/** A message ingest has persisted and owns: everything downstream needs to route and send it. */
export const acceptedPayload = z.object({
  to: e164Schema,
  from: senderSchema,
  body: bodySchema,
  trafficClass: trafficClassSchema,
  encoding: encodingSchema,
  segments: z.number().int().positive(),
  callbackUrl: z.string().max(2048).optional(),
  validUntil: z.iso.datetime({ offset: true }),
  acceptedAt: z.iso.datetime({ offset: true }),
  reference: z.string().max(128).optional(),
  sandbox: z.boolean(),
});
export type AcceptedPayload = z.infer<typeof acceptedPayload>;

export const AcceptedV1 = defineEvent({
  topic: 'sms.internal.accepted.v1',
  type: 'sms.accepted',
  version: 1,
  partitions: 6,
  keyDescription: 'message id: all events of a message share a partition',
  keyOf: keyByMessageId,
  payload: acceptedPayload,
});
