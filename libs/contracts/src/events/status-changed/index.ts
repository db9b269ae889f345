import { z } from 'zod';
import { defineEvent, keyByMessageId } from '../../contract.js';
import { messageStatusSchema, reasonSchema, trafficClassSchema } from '../../common.js';

/**
 * Public status event for upstream services (and ingest's read model, and the notifier's webhooks).
 * `sequence` increases per message so receivers can order what they get.
 */
export const statusChangedPayload = z.object({
  status: messageStatusSchema,
  reason: reasonSchema.optional(),
  carrierId: z.string().max(64).optional(),
  routeId: z.string().max(128).optional(),
  trafficClass: trafficClassSchema.optional(),
  parts: z
    .object({
      total: z.number().int().min(0),
      delivered: z.number().int().min(0),
      failed: z.number().int().min(0),
    })
    .optional(),
  sequence: z.number().int().min(0),
  changedAt: z.iso.datetime({ offset: true }),
  reference: z.string().max(128).optional(),
  /** The sender's per-message webhook URL, carried so notifier needs no lookup (and no race). */
  callbackUrl: z.string().max(2048).optional(),
});
export type StatusChangedPayload = z.infer<typeof statusChangedPayload>;

export const StatusChangedV1 = defineEvent({
  topic: 'sms.public.status-changed.v1',
  type: 'sms.status-changed',
  version: 1,
  partitions: 6,
  keyDescription: 'message id: a message\'s status events stay in order per producer',
  keyOf: keyByMessageId,
  payload: statusChangedPayload,
});
