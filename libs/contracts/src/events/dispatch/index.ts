import { z } from 'zod';
import { defineEvent, keyByMessageId, type EventContract } from '../../contract.js';
import { acceptedPayload } from '../accepted/index.js';
import type { TrafficClass } from '../../common.js';

/**
 * A routed message handed to carrier-dispatch. One topic per traffic class (lane) so an OTP never waits
 * behind a promotional backlog: each lane has its own consumer and its own carrier binds.
 */
export const dispatchPayload = acceptedPayload.extend({
  carrierId: z.string().min(1).max(64),
  routeId: z.string().min(1).max(128),
  attempt: z.number().int().min(1),
  routedAt: z.iso.datetime({ offset: true }),
});
export type DispatchPayload = z.infer<typeof dispatchPayload>;

function dispatchLane(lane: TrafficClass) {
  return defineEvent({
    topic: `sms.internal.dispatch.${lane}.v1`,
    type: 'sms.dispatch',
    version: 1,
    partitions: 6,
    keyDescription: 'message id',
    keyOf: keyByMessageId,
    payload: dispatchPayload,
  });
}

export const DispatchOtpV1 = dispatchLane('otp');
export const DispatchTransactionalV1 = dispatchLane('transactional');
export const DispatchPromotionalV1 = dispatchLane('promotional');

export const dispatchTopicByLane: Record<TrafficClass, EventContract<DispatchPayload>> = {
  otp: DispatchOtpV1,
  transactional: DispatchTransactionalV1,
  promotional: DispatchPromotionalV1,
};
