import {
  AcceptedOtpV1,
  AcceptedPromotionalV1,
  AcceptedTransactionalV1,
  DispatchFailedOtpV1,
  DispatchFailedPromotionalV1,
  DispatchFailedTransactionalV1,
  MoReceivedV1,
  StatusChangedV1,
  dispatchPayload,
  dispatchTopicByLane,
  type AcceptedPayload,
  type DispatchFailedPayload,
  type EventContract,
  type Reason,
  type TrafficClass,
} from '@sms/contracts';
import type { ConsumedEvent, EventPublisher, PublishRequest } from '@sms/kafka';
import { traceparentOf } from '@sms/telemetry';
import type { ConsumerGroupSpec } from '@sms/platform';
import { exhaustedReason, noCarrierReason, routedReason } from '../domain/reasons.js';
import { allHealthy, countryOf, type CarrierHealthView, type RouteTable } from '@sms/routing';
import type { RoutedMessagesRepository } from '../infra/routed-messages.repository.js';
import type { ComplianceRepository } from '../infra/compliance.repository.js';
import type { HeldMessagesRepository } from '../infra/held-messages.repository.js';
import { releaseAt, zonesOf, type QuietWindow } from '../domain/quiet-hours.js';
import { dispatchPayloadOf } from '../domain/dispatch-payload.js';
import { normalizeSender } from '../domain/opt-out.js';
import { senderRefusal, type SenderPolicy } from '../domain/sender-policy.js';
import { matchesTemplate, templatePattern } from '../domain/templates.js';

export interface QuietHoursPolicy {
  window: QuietWindow;
  /** As configured, e.g. `21:00-08:00`, for the status reason. */
  text: string;
  classes: ReadonlySet<TrafficClass>;
  held: HeldMessagesRepository;
  now?: () => Date;
}

export interface ComplianceCheck {
  repository: ComplianceRepository;
  /** Traffic classes the opt-out list applies to (OTP is exempt unless configured). */
  optOutClasses: ReadonlySet<TrafficClass>;
  senders?: SenderPolicy;
  /** Countries where the body must match a template approved for the tenant. */
  templateCountries?: ReadonlySet<string>;
}

/** Messages failed over at once (each takes two queries on a pool of 10 connections). */
const FAILOVER_CONCURRENCY = 8;

/** Sequence numbers of the status events the router emits (see StatusChangedV1). */
const SEQ_ROUTED = 1;
/** Held for quiet hours: after accepted, before routed (rank orders them; the sequence only ties with routed). */
const SEQ_SCHEDULED = 1;
const SEQ_ROUTER_FINAL = 2;

export class RoutingService {
  constructor(
    private readonly routes: () => RouteTable,
    private readonly repository: RoutedMessagesRepository,
    private readonly publisher: EventPublisher,
    private readonly health: CarrierHealthView = allHealthy,
    private readonly compliance?: ComplianceCheck,
    private readonly quiet?: QuietHoursPolicy,
  ) {}

  /** Routes a batch of accepted messages: one DB round trip, one produce request. */
  async routeAccepted(all: ConsumedEvent<AcceptedPayload>[], options: { released?: boolean } = {}): Promise<void> {
    const table = this.routes();
    const refusals = await this.refusals(all);
    const batch = options.released ? all : await this.holdQuiet(all, refusals);
    const decisions = batch.map((event) => {
      const p = event.envelope.payload;
      const decision = table.resolve(
        { to: p.to, trafficClass: p.trafficClass, tenantId: event.envelope.tenantId, from: p.from, messageId: event.envelope.messageId, sandbox: p.sandbox },
        this.health,
      );
      const refusal = refusals.get(event.envelope.messageId!);
      return { event, decision, refusal };
    });
    // Within one batch the same message may appear twice (redelivery): keep the first.
    const unique = [...new Map(decisions.map((d) => [d.event.envelope.messageId!, d])).values()];
    await this.repository.inTransaction(async (tx) => {
      const fresh = await tx.insertNew(
        unique.map(({ event, decision, refusal }) => ({
          messageId: event.envelope.messageId!,
          tenantId: event.envelope.tenantId,
          routeId: decision?.routeId ?? null,
          carriers: decision?.carriers ?? [],
          accepted: event.envelope.payload,
          traceParent: traceparentOf(event.context) ?? null,
          final: refusal !== undefined || !decision || decision.carriers.length === 0,
        })),
      );
      const requests: PublishRequest<unknown>[] = [];
      // One timestamp for the batch (formatting one per record was ~3 % of the router's CPU).
      const now = new Date().toISOString();
      for (const { event, decision, refusal } of unique) {
        const messageId = event.envelope.messageId!;
        if (!fresh.has(messageId)) continue;
        const p = event.envelope.payload;
        const tenantId = event.envelope.tenantId;
        if (refusal) {
          event.span.setAttributes({ 'sms.compliance': refusal.code, 'sms.lane': p.trafficClass });
          requests.push(this.status(event, 'rejected', SEQ_ROUTER_FINAL, refusal, p));
          continue;
        }
        if (!decision) {
          requests.push(this.status(event, 'failed', SEQ_ROUTER_FINAL, { code: 'no_route', message: 'no routing rule matches' }, p));
          continue;
        }
        if (decision.carriers.length === 0) {
          event.span.setAttributes({ 'sms.route': decision.routeId, 'sms.lane': p.trafficClass });
          requests.push(this.status(event, 'failed', SEQ_ROUTER_FINAL, noCarrierReason(decision), p, { routeId: decision.routeId }));
          continue;
        }
        // Built only for a recording span (the skipped list is a string per message for nothing otherwise).
        if (event.span.isRecording()) {
          event.span.setAttributes({
            'sms.route': decision.routeId,
            'sms.route.rule': decision.conditions,
            'sms.route.strategy': decision.strategy,
            'sms.route.skipped': decision.skipped.map((s) => `${s.carrierId}:${s.reason}`).join(','),
            'sms.carrier': decision.carriers[0]!,
            'sms.lane': p.trafficClass,
          });
        }
        requests.push({
          contract: dispatchTopicByLane[p.trafficClass],
          // The consumer validated `p` against acceptedPayload, which dispatchPayload extends; the route's ids
          // are checked against the contract once per id. Released (held) messages come from the database.
          prevalidated: !options.released && this.dispatchIdsValid(decision.routeId, decision.carriers[0]!),
          drafts: [
            {
              tenantId,
              messageId,
              context: event.context,
              payload: dispatchPayloadOf(p, { carrierId: decision.carriers[0]!, routeId: decision.routeId, attempt: 1, routedAt: now }),
            },
          ],
        });
        requests.push(
          this.status(
            event,
            'routed',
            SEQ_ROUTED,
            routedReason(decision),
            p,
            { carrierId: decision.carriers[0]!, routeId: decision.routeId },
            now,
          ),
        );
      }
      if (requests.length > 0) await this.publisher.publishMany(requests);
    });
  }

  /**
   * A carrier could not take a message. Failover-class reasons go to the next carrier of the route;
   * permanent ones, or an exhausted route, end the message with the reason of each attempt.
   */
  async handleDispatchFailed(batch: ConsumedEvent<DispatchFailedPayload>[]): Promise<void> {
    // A batch is one lane's failures (each lane has its own topic and consumer group). Each failure costs
    // two queries, so several messages are worked at a time; a message's own failures stay in order (its
    // attempts are sequential).
    const byMessage = new Map<string, ConsumedEvent<DispatchFailedPayload>[]>();
    for (const event of batch) {
      const id = event.envelope.messageId!;
      const list = byMessage.get(id);
      if (list) list.push(event);
      else byMessage.set(id, [event]);
    }
    const groups = [...byMessage.values()];
    for (let i = 0; i < groups.length; i += FAILOVER_CONCURRENCY) {
      await Promise.all(groups.slice(i, i + FAILOVER_CONCURRENCY).map((events) => this.failOver(events)));
    }
  }

  private async failOver(events: ConsumedEvent<DispatchFailedPayload>[]): Promise<void> {
    for (const event of events) {
      const messageId = event.envelope.messageId!;
      const failure = event.envelope.payload;
      const routed = await this.repository.find(messageId);
      if (!routed || routed.final || routed.attempt !== failure.attempt) continue; // unknown, done, or a redelivery
      if (routed.carriers[failure.attempt - 1] !== failure.carrierId) continue; // not the carrier this attempt went to
      const next = failure.disposition === 'failover' ? routed.carriers[failure.attempt] : undefined;
      await this.repository.inTransaction(async (tx) => {
        const failures = await tx.advanceAttempt(messageId, failure.attempt, next === undefined, {
          attempt: failure.attempt,
          carrierId: failure.carrierId,
          code: failure.reason.code,
          carrierCode: failure.reason.carrierCode,
        });
        if (!failures) return;
        event.span.setAttributes({ 'sms.route': failure.routeId, 'sms.carrier.failed': failure.carrierId, 'sms.attempt': failure.attempt });
        if (next === undefined) {
          const exhausted = failure.disposition === 'failover';
          const reason: Reason = exhausted ? exhaustedReason(failures) : failure.reason;
          await this.publisher.publishMany([
            this.status(event, exhausted ? 'failed' : failure.finalStatus, SEQ_ROUTER_FINAL, reason, routed.accepted, {
              carrierId: failure.carrierId,
              routeId: failure.routeId,
            }),
          ]);
          return;
        }
        event.span.setAttribute('sms.carrier', next);
        await this.publisher.publishMany([
          {
            contract: dispatchTopicByLane[routed.accepted.trafficClass],
            drafts: [
              {
                tenantId: event.envelope.tenantId,
                messageId,
                context: event.context,
                payload: dispatchPayloadOf(routed.accepted, {
                  carrierId: next,
                  routeId: failure.routeId,
                  attempt: failure.attempt + 1,
                  routedAt: new Date().toISOString(),
                }),
              },
            ],
          },
        ]);
      });
    }
  }

  /**
   * Holds the messages of a quiet-hours class whose recipient's country is in its quiet hours (opted-out
   * ones are rejected now instead); returns the others. A held message gets a `scheduled` status.
   */
  private async holdQuiet(batch: ConsumedEvent<AcceptedPayload>[], refusals: Map<string, Reason>): Promise<ConsumedEvent<AcceptedPayload>[]> {
    const quiet = this.quiet;
    if (!quiet) return batch;
    const now = quiet.now?.() ?? new Date();
    const rest: ConsumedEvent<AcceptedPayload>[] = [];
    const held: { event: ConsumedEvent<AcceptedPayload>; at: Date; country: string }[] = [];
    for (const event of batch) {
      const p = event.envelope.payload;
      if (!quiet.classes.has(p.trafficClass) || refusals.has(event.envelope.messageId!)) {
        rest.push(event);
        continue;
      }
      const country = countryOf(p.to);
      const at = country ? releaseAt(now, zonesOf(country), quiet.window) : undefined;
      if (at) held.push({ event, at, country: country! });
      else rest.push(event);
    }
    if (held.length === 0) return rest;
    const fresh = await quiet.held.hold(
      held.map(({ event, at }) => ({ envelope: event.envelope, traceParent: traceparentOf(event.context) ?? null, releaseAt: at })),
    );
    const requests = held
      .filter(({ event }) => fresh.has(event.envelope.messageId!))
      .map(({ event, at, country }) => {
        event.span.setAttributes({ 'sms.compliance': 'quiet_hours', 'sms.release_at': at.toISOString() });
        return this.status(
          event,
          'scheduled',
          SEQ_SCHEDULED,
          { code: 'quiet_hours', message: `held until ${at.toISOString()}: quiet hours ${quiet.text} in ${country}` },
          event.envelope.payload,
        );
      });
    if (requests.length > 0) await this.publisher.publishMany(requests);
    return rest;
  }

  /** Compliance refusals of a batch by message id: opt-outs first, then the sender policy. */
  private async refusals(batch: ConsumedEvent<AcceptedPayload>[]): Promise<Map<string, Reason>> {
    const refusals = new Map<string, Reason>();
    for (const id of await this.optedOut(batch)) {
      const event = batch.find((e) => e.envelope.messageId === id)!;
      refusals.set(id, {
        code: 'opted_out',
        message: `the recipient opted out of ${event.envelope.tenantId}'s ${event.envelope.payload.trafficClass} messages`,
      });
    }
    const senders = this.compliance?.senders;
    const templateCountries = this.compliance?.templateCountries;
    const needsSenders = senders !== undefined && (senders.registrationRequired.size > 0 || senders.alphanumericUnsupported.size > 0);
    const needsTemplates = templateCountries !== undefined && templateCountries.size > 0;
    if (!needsSenders && !needsTemplates) return refusals;
    const candidates = batch
      .filter((e) => !refusals.has(e.envelope.messageId!))
      .map((e) => ({ event: e, country: countryOf(e.envelope.payload.to) }))
      .filter((c): c is { event: ConsumedEvent<AcceptedPayload>; country: string } => c.country !== undefined);
    if (needsSenders) {
      const checked = candidates.filter((c) => senders.registrationRequired.has(c.country) || senders.alphanumericUnsupported.has(c.country));
      const registrations =
        checked.length === 0
          ? new Map<string, string[]>()
          : await this.compliance!.repository.registrations(
              checked.map((c) => ({ tenantId: c.event.envelope.tenantId, sender: normalizeSender(c.event.envelope.payload.from) })),
            );
      for (const { event, country } of checked) {
        const key = `${event.envelope.tenantId}\n${normalizeSender(event.envelope.payload.from)}`;
        const refusal = senderRefusal(senders, event.envelope.payload.from, country, registrations.get(key));
        if (refusal) refusals.set(event.envelope.messageId!, refusal);
      }
    }
    if (needsTemplates) {
      const checked = candidates.filter((c) => templateCountries.has(c.country) && !refusals.has(c.event.envelope.messageId!));
      const templates =
        checked.length === 0
          ? new Map<string, string[]>()
          : await this.compliance!.repository.templates(checked.map((c) => ({ tenantId: c.event.envelope.tenantId, country: c.country })));
      for (const { event, country } of checked) {
        const approved = (templates.get(`${event.envelope.tenantId}\n${country}`) ?? []).map((t) => this.compiled(t));
        if (!matchesTemplate(event.envelope.payload.body, approved)) {
          refusals.set(event.envelope.messageId!, {
            code: 'template_not_approved',
            message: `the body matches none of the ${approved.length} template(s) approved for ${event.envelope.tenantId} in ${country}`,
          });
        }
      }
    }
    return refusals;
  }

  private readonly validIds = new Map<string, boolean>();

  /** Whether a route id and carrier id pass the dispatch contract's own field schemas (config ids rarely change). */
  private dispatchIdsValid(routeId: string, carrierId: string): boolean {
    const key = `${routeId}\n${carrierId}`;
    let valid = this.validIds.get(key);
    if (valid === undefined) {
      if (this.validIds.size > 10_000) this.validIds.clear();
      valid = dispatchPayload.shape.routeId.safeParse(routeId).success && dispatchPayload.shape.carrierId.safeParse(carrierId).success;
      this.validIds.set(key, valid);
    }
    return valid;
  }

  private readonly patterns = new Map<string, RegExp>();

  private compiled(template: string): RegExp {
    let pattern = this.patterns.get(template);
    if (!pattern) {
      if (this.patterns.size > 10_000) this.patterns.clear();
      pattern = templatePattern(template);
      this.patterns.set(template, pattern);
    }
    return pattern;
  }

  /** Message ids of the batch whose recipient opted out of the tenant's messages of that class. */
  private async optedOut(batch: ConsumedEvent<AcceptedPayload>[]): Promise<Set<string>> {
    if (!this.compliance) return new Set();
    const checked = batch.filter((e) => this.compliance!.optOutClasses.has(e.envelope.payload.trafficClass));
    if (checked.length === 0) return new Set();
    const hits = await this.compliance.repository.optedOut(checked.map((e) => ({ tenantId: e.envelope.tenantId, msisdn: e.envelope.payload.to })));
    return new Set(checked.filter((e) => hits.has(`${e.envelope.tenantId}\n${e.envelope.payload.to}`)).map((e) => e.envelope.messageId!));
  }

  private status(
    event: ConsumedEvent<unknown>,
    status: 'scheduled' | 'routed' | 'failed' | 'rejected',
    sequence: number,
    reason: Reason,
    accepted: AcceptedPayload,
    extra: { carrierId?: string; routeId?: string } = {},
    changedAt = new Date().toISOString(),
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
            changedAt,
            reference: accepted.reference,
            callbackUrl: accepted.callbackUrl,
            ...extra,
          },
        },
      ],
    };
  }
}

/** The accepted lanes' groups: the hot path, run by the routing threads when ROUTER_WORKERS > 0. */
export function isAcceptedLaneGroup(spec: ConsumerGroupSpec): boolean {
  return spec.contracts.some((c) => c === AcceptedOtpV1 || c === AcceptedTransactionalV1 || c === AcceptedPromotionalV1);
}

/**
 * The router's consumer groups. Each lane's accepted topic and each lane's dispatch-failed topic has its
 * own group, so its own kafkajs consumer and fetch loop: neither a promotional flood nor a promotional
 * failure storm (a carrier down during a blast) ever sits between an OTP and the router. Inbound stop
 * keywords keep the original group `<prefix>.router`.
 */
export function routerConsumerGroups(prefix: string): ConsumerGroupSpec[] {
  // kafkajs decodes a whole fetch response synchronously: a backlog fetched with the default limits
  // (2 MiB a partition) blocked this process's event loop, OTP consumer included, for over a second. The
  // bulk lanes fetch at most 256 KiB (~400 events) at a time (e2e lanes test, shared 2-core box: an OTP's
  // router hop behind a 20k promotional backlog went from 1.3 s to 64-474 ms).
  const bulkFetch = { maxBytesPerPartition: 64 * 1024, maxBytes: 256 * 1024 };
  return [
    // Small batches for OTP: a batch is routed as one unit, so its size bounds the wait of its last message.
    { groupId: `${prefix}.router.otp`, contracts: [AcceptedOtpV1 as EventContract<unknown>], maxBatchSize: 100, concurrency: AcceptedOtpV1.partitions },
    { groupId: `${prefix}.router.transactional`, contracts: [AcceptedTransactionalV1 as EventContract<unknown>], ...bulkFetch },
    { groupId: `${prefix}.router.promotional`, contracts: [AcceptedPromotionalV1 as EventContract<unknown>], ...bulkFetch },
    // Failover per lane, with the lane's own fetch settings (a failure costs two queries, so OTP batches stay small).
    {
      groupId: `${prefix}.router.dispatch-failed.otp`,
      contracts: [DispatchFailedOtpV1 as EventContract<unknown>],
      maxBatchSize: 100,
      concurrency: DispatchFailedOtpV1.partitions,
    },
    { groupId: `${prefix}.router.dispatch-failed.transactional`, contracts: [DispatchFailedTransactionalV1 as EventContract<unknown>], ...bulkFetch },
    { groupId: `${prefix}.router.dispatch-failed.promotional`, contracts: [DispatchFailedPromotionalV1 as EventContract<unknown>], ...bulkFetch },
    { groupId: `${prefix}.router`, contracts: [MoReceivedV1 as EventContract<unknown>] },
  ];
}
