import { z } from 'zod';
import { defineEvent } from '../../contract.js';

/** Breaker and bind state of one carrier route; compacted so a new router reads the latest state per key. */
export const carrierHealthPayload = z.object({
  carrierId: z.string().min(1).max(64),
  lane: z.string().min(1).max(32),
  breaker: z.enum(['closed', 'open', 'half_open']),
  bindsUp: z.number().int().min(0),
  bindsTotal: z.number().int().min(0),
  changedAt: z.iso.datetime({ offset: true }),
});
export type CarrierHealthPayload = z.infer<typeof carrierHealthPayload>;

export const CarrierHealthV1 = defineEvent({
  topic: 'sms.internal.carrier-health.v1',
  type: 'sms.carrier-health',
  version: 1,
  partitions: 1,
  topicConfig: { 'cleanup.policy': 'compact' },
  keyDescription: 'carrier id + lane (compaction keeps the latest state per carrier route)',
  keyOf: (e) => `${e.payload.carrierId}:${e.payload.lane}`,
  payload: carrierHealthPayload,
  requiresMessageId: false,
});
