import type { AcceptedPayload, DispatchPayload } from '@sms/contracts';

/**
 * An accepted payload with the route's choice added. Written out field by field rather than
 * `{ ...accepted, carrierId, ... }`: the spread of the consumer's parsed payload was 2.4 % of the router's
 * CPU profile (`routeAccepted`'s own time 4.8 % → 1.3 % written out; bench, 100,000 messages, one thread).
 * dispatch-payload.spec.ts fails when the contract gains a field this does not copy.
 */
export function dispatchPayloadOf(
  accepted: AcceptedPayload,
  route: { carrierId: string; routeId: string; attempt: number; routedAt: string },
): DispatchPayload {
  return {
    to: accepted.to,
    from: accepted.from,
    body: accepted.body,
    trafficClass: accepted.trafficClass,
    encoding: accepted.encoding,
    segments: accepted.segments,
    callbackUrl: accepted.callbackUrl,
    validUntil: accepted.validUntil,
    acceptedAt: accepted.acceptedAt,
    reference: accepted.reference,
    sandbox: accepted.sandbox,
    carrierId: route.carrierId,
    routeId: route.routeId,
    attempt: route.attempt,
    routedAt: route.routedAt,
  };
}
