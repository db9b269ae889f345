import {
  AcceptedV1,
  DispatchFailedV1,
  StatusChangedV1,
  dispatchTopicByLane,
  type AcceptedPayload,
  type DispatchFailedPayload,
  type Reason,
} from '@sms/contracts';
import type { ConsumedEvent, EventPublisher, PublishRequest } from '@sms/kafka';
import { traceparentOf } from '@sms/telemetry';
import type { RouteTable } from '../domain/route-table.js';
import type { RoutedMessagesRepository } from '../infra/routed-messages.repository.js';

/** Sequence numbers of the status events the router emits (see StatusChangedV1). */
const SEQ_ROUTED = 1;
const SEQ_ROUTER_FINAL = 2;

export class RoutingService {
  constructor(
    private readonly routes: () => RouteTable,
    private readonly repository: RoutedMessagesRepository,
    private readonly publisher: EventPublisher,
  ) {}

  /** Routes a batch of accepted messages: one DB round trip, one produce request. */
  async routeAccepted(batch: ConsumedEvent<AcceptedPayload>[]): Promise<void> {
    const table = this.routes();
    const decisions = batch.map((event) => {
      const p = event.envelope.payload;
      const decision = table.resolve({ to: p.to, trafficClass: p.trafficClass, tenantId: event.envelope.tenantId });
      return { event, decision };
    });
    // Within one batch the same message may appear twice (redelivery): keep the first.
    const unique = [...new Map(decisions.map((d) => [d.event.envelope.messageId!, d])).values()];
    const fresh = await this.repository.insertNew(
      unique.map(({ event, decision }) => ({
        messageId: event.envelope.messageId!,
        tenantId: event.envelope.tenantId,
        routeId: decision?.routeId ?? null,
        carriers: decision?.carriers ?? [],
        accepted: event.envelope.payload,
        traceParent: traceparentOf(event.context) ?? null,
        final: !decision,
      })),
    );
    const requests: PublishRequest<unknown>[] = [];
    const now = new Date();
    for (const { event, decision } of unique) {
      const messageId = event.envelope.messageId!;
      if (!fresh.has(messageId)) continue;
      const p = event.envelope.payload;
      const tenantId = event.envelope.tenantId;
      if (!decision) {
        requests.push(this.status(event, 'failed', SEQ_ROUTER_FINAL, { code: 'no_route', message: 'no routing rule matches' }, p));
        continue;
      }
      event.span.setAttributes({ 'sms.route': decision.routeId, 'sms.carrier': decision.carriers[0]!, 'sms.lane': p.trafficClass });
      requests.push({
        contract: dispatchTopicByLane[p.trafficClass],
        drafts: [
          {
            tenantId,
            messageId,
            context: event.context,
            payload: { ...p, carrierId: decision.carriers[0]!, routeId: decision.routeId, attempt: 1, routedAt: now.toISOString() },
          },
        ],
      });
      requests.push(
        this.status(event, 'routed', SEQ_ROUTED, { code: 'routed', message: `rule ${decision.routeId} -> ${decision.carriers[0]}` }, p, {
          carrierId: decision.carriers[0]!,
          routeId: decision.routeId,
        }),
      );
    }
    if (requests.length > 0) await this.publisher.publishMany(requests);
  }

  /**
   * A carrier could not take a message. Failover-class reasons go to the next carrier of the route;
   * permanent ones, or an exhausted route, end the message with the reason of each attempt.
   */
  async handleDispatchFailed(batch: ConsumedEvent<DispatchFailedPayload>[]): Promise<void> {
    for (const event of batch) {
      const messageId = event.envelope.messageId!;
      const failure = event.envelope.payload;
      const routed = await this.repository.find(messageId);
      if (!routed || routed.final || routed.attempt !== failure.attempt) continue; // unknown, done, or a redelivery
      const next = failure.disposition === 'failover' ? routed.carriers[failure.attempt] : undefined;
      const advanced = await this.repository.advanceAttempt(messageId, failure.attempt, next === undefined);
      if (!advanced) continue;
      if (next === undefined) {
        const exhausted = failure.disposition === 'failover';
        const reason: Reason = exhausted
          ? { code: 'all_carriers_failed', message: `last: ${failure.carrierId}: ${failure.reason.code}`, carrierCode: failure.reason.carrierCode }
          : failure.reason;
        await this.publisher.publishMany([
          this.status(event, exhausted ? 'failed' : failure.finalStatus, SEQ_ROUTER_FINAL, reason, routed.accepted, {
            carrierId: failure.carrierId,
            routeId: failure.routeId,
          }),
        ]);
        continue;
      }
      await this.publisher.publishMany([
        {
          contract: dispatchTopicByLane[routed.accepted.trafficClass],
          drafts: [
            {
              tenantId: event.envelope.tenantId,
              messageId,
              context: event.context,
              payload: {
                ...routed.accepted,
                carrierId: next,
                routeId: failure.routeId,
                attempt: failure.attempt + 1,
                routedAt: new Date().toISOString(),
              },
            },
          ],
        },
      ]);
    }
  }

  private status(
    event: ConsumedEvent<unknown>,
    status: 'routed' | 'failed' | 'rejected',
    sequence: number,
    reason: Reason,
    accepted: AcceptedPayload,
    extra: { carrierId?: string; routeId?: string } = {},
  ): PublishRequest<unknown> {
    return {
      contract: StatusChangedV1,
      drafts: [
        {
          tenantId: event.envelope.tenantId,
          messageId: event.envelope.messageId!,
          context: event.context,
          payload: {
            status,
            reason,
            sequence,
            trafficClass: accepted.trafficClass,
            changedAt: new Date().toISOString(),
            reference: accepted.reference,
            callbackUrl: accepted.callbackUrl,
            ...extra,
          },
        },
      ],
    };
  }
}

export const routerContracts = [AcceptedV1, DispatchFailedV1];
