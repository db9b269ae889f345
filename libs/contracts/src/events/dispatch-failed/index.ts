import { z } from 'zod';
import { defineEvent, keyByMessageId, type EventContract } from '../../contract.js';
import { reasonSchema, trafficClassSchema, type TrafficClass } from '../../common.js';

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

/**
 * One dispatch-failed topic per traffic class (lane), like dispatch and accepted: a carrier outage during a
 * promotional blast floods the promotional topic with failures, and the router reads each lane's topic
 * with its own consumer group, so an OTP's failover never waits behind them. These replace the single
 * `sms.internal.dispatch-failed.v1` of earlier releases (nothing reads or writes that topic any more).
 */
function dispatchFailedLane(lane: TrafficClass) {
  return defineEvent({
    topic: `sms.internal.dispatch-failed.${lane}.v1`,
    type: 'sms.dispatch-failed',
    version: 1,
    partitions: 6,
    keyDescription: 'message id',
    keyOf: keyByMessageId,
    payload: dispatchFailedPayload,
  });
}

export const DispatchFailedOtpV1 = dispatchFailedLane('otp');
export const DispatchFailedTransactionalV1 = dispatchFailedLane('transactional');
export const DispatchFailedPromotionalV1 = dispatchFailedLane('promotional');

export const dispatchFailedTopicByLane: Record<TrafficClass, EventContract<DispatchFailedPayload>> = {
  otp: DispatchFailedOtpV1,
  transactional: DispatchFailedTransactionalV1,
  promotional: DispatchFailedPromotionalV1,
};
