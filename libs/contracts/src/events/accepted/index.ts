import { z } from 'zod';
import { defineEvent, keyByMessageId, type EventContract } from '../../contract.js';
import { bodySchema, e164Schema, encodingSchema, senderSchema, trafficClassSchema, type TrafficClass } from '../../common.js';

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

/**
 * One accepted topic per traffic class (lane), same payload, so an OTP never waits behind a promotional
 * flood at the router: each lane has its own router consumer group, hence its own fetch loop and offsets.
 * (Lanes split only after routing used to mean a 10k flood held OTPs 24 s at the router.)
 */
function acceptedLane(lane: TrafficClass) {
  return defineEvent({
    topic: `sms.internal.accepted.${lane}.v1`,
    type: 'sms.accepted',
    version: 1,
    partitions: 6,
    keyDescription: 'message id: all events of a message share a partition',
    keyOf: keyByMessageId,
    payload: acceptedPayload,
  });
}

export const AcceptedOtpV1 = acceptedLane('otp');
export const AcceptedTransactionalV1 = acceptedLane('transactional');
export const AcceptedPromotionalV1 = acceptedLane('promotional');

export const acceptedTopicByLane: Record<TrafficClass, EventContract<AcceptedPayload>> = {
  otp: AcceptedOtpV1,
  transactional: AcceptedTransactionalV1,
  promotional: AcceptedPromotionalV1,
};

export const acceptedContracts: readonly EventContract<AcceptedPayload>[] = [AcceptedOtpV1, AcceptedTransactionalV1, AcceptedPromotionalV1];

/**
 * The single accepted topic of releases before the lanes split. Nothing publishes to it any more; ingest's
 * outbox may still hold rows written for it by an older release, and its relay sends those to their lane.
 */
export const LEGACY_ACCEPTED_TOPIC = 'sms.internal.accepted.v1';

/** Whether an outbox row or a consumed batch belongs to an accepted topic (any lane, or the legacy one). */
export function isAcceptedTopic(topic: string): boolean {
  return topic === LEGACY_ACCEPTED_TOPIC || acceptedContracts.some((c) => c.topic === topic);
}
