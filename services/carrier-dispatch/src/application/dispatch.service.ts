import {
  SubmittedV1,
  dispatchFailedTopicByLane,
  trafficClasses,
  type DispatchPayload,
  type DispatchFailedPayload,
  type SubmittedPayload,
  type TrafficClass,
} from '@sms/contracts';
import type { ConsumedEvent, EventDraft, EventPublisher } from '@sms/kafka';
import { SmppCommandError, SmppSessionError, commandStatusName } from '@sms/smpp';
import { SpanKind, traceparentOf, withSpan } from '@sms/telemetry';
import { recordableCarrierMessageId } from '../domain/carrier-message-id.js';
import { classifySessionError, classifySmppStatus, type FailureClass } from '../domain/error-map.js';
import { decideRetry, type RetrySettings } from '../domain/retry-policy.js';
import type { CarrierRegistry } from '../infra/carrier-registry.js';
import { HttpCarrierError } from '../infra/http-carrier-route.js';
import { BreakerOpenError, type PartRequest } from '../infra/route.js';
import type { RetryScheduler, ScheduledRetry } from '../infra/retry-scheduler.js';
import type { LedgerRow, SubmitLedgerRepository } from '../infra/submit-ledger.repository.js';

/**
 * What to do with a part that was in flight when a previous process died (claimed, never answered):
 * the carrier may or may not have it. OTP and transactional texts are worth a possible duplicate
 * (a missing OTP blocks a login); promotional ones are not, so they end `failed/submit_outcome_unknown`.
 */
export const resendInFlightAfterCrash: Record<TrafficClass, boolean> = {
  otp: true,
  transactional: true,
  promotional: false,
};

interface SubmitFailure {
  failure: FailureClass;
  carrierCode?: string;
  message: string;
}

const severity: Record<FailureClass['disposition'], number> = { retry: 0, failover: 1, permanent: 2 };

export { concatReference } from '../domain/concat-reference.js';

export interface DispatchHooks {
  onScheduled?(lane: TrafficClass, reason: string): void;
  onExhausted?(lane: TrafficClass, reason: string): void;
  /** A carrier accepted a part but its message_id cannot be recorded (empty or too long): no receipt will match. */
  onUnidentifiedSubmit?(carrierId: string, rawMessageId: string): void;
}

/**
 * A part the ledger holds as submitted, as the `submitted` event carries it. A row of an earlier release may hold
 * an id the event cannot carry (e.g. empty): it goes through the same rule as a fresh answer.
 */
function submittedPartOf(row: LedgerRow): { index: number; carrierMessageId: string; submittedAt: Date } {
  return {
    index: row.partIndex,
    carrierMessageId: recordableCarrierMessageId(row.carrierMessageId ?? '', row.messageId, row.partIndex).id,
    submittedAt: row.submittedAt!,
  };
}

export class DispatchService {
  constructor(
    private readonly carriers: CarrierRegistry,
    private readonly ledger: SubmitLedgerRepository,
    private readonly publisher: EventPublisher,
    private readonly retries: RetryScheduler,
    private readonly retrySettings: RetrySettings,
    private readonly hooks: DispatchHooks = {},
  ) {}

  async dispatch(batch: ConsumedEvent<DispatchPayload>[]): Promise<void> {
    // Latest attempt per message wins inside one batch (a redelivery and a failover may meet).
    const byMessage = new Map<string, ConsumedEvent<DispatchPayload>>();
    for (const event of batch) {
      const current = byMessage.get(event.envelope.messageId!);
      if (!current || current.envelope.payload.attempt <= event.envelope.payload.attempt) byMessage.set(event.envelope.messageId!, event);
    }
    const events = [...byMessage.values()];
    const ledgerRows = await this.ledger.findByMessages(events.map((e) => e.envelope.messageId!));
    const rowsByMessage = new Map<string, typeof ledgerRows>();
    for (const row of ledgerRows) rowsByMessage.set(row.messageId, [...(rowsByMessage.get(row.messageId) ?? []), row]);

    const submitted: EventDraft<SubmittedPayload>[] = [];
    const failed: EventDraft<DispatchFailedPayload>[] = [];
    const transient: { event: ConsumedEvent<DispatchPayload>; failure: SubmitFailure }[] = [];
    const recorded: Promise<void>[] = [];
    const record = (outcome: Parameters<SubmitLedgerRepository['recordSoon']>[0], lane: TrafficClass) => {
      const written = this.ledger.recordSoon(outcome, lane);
      // Awaited below with the others; until then a failed write must not count as an unhandled rejection.
      written.catch(() => undefined);
      recorded.push(written);
    };
    const now = Date.now();

    const plans = events.map((event) => {
      const p = event.envelope.payload;
      const route = this.carriers.get(p.carrierId, p.trafficClass);
      return { event, p, route, rows: rowsByMessage.get(event.envelope.messageId!) ?? [] };
    });

    // Claim every part we are about to send in one round trip.
    const toClaim: Parameters<SubmitLedgerRepository['claim']>[0] = [];
    const work: { event: ConsumedEvent<DispatchPayload>; parts: { index: number; request: PartRequest }[]; total: number }[] = [];
    for (const { event, p, route, rows } of plans) {
      const messageId = event.envelope.messageId!;
      const fail = (failure: FailureClass, message: string, carrierCode?: string) =>
        failed.push(this.failure(event, { failure, message, carrierCode }));
      if (Date.parse(p.validUntil) <= now) {
        fail({ disposition: 'permanent', reason: 'validity_elapsed', finalStatus: 'failed' }, 'validity period passed before submission');
        continue;
      }
      if (!route) {
        fail({ disposition: 'failover', reason: 'carrier_not_configured', finalStatus: 'failed' }, `no ${p.trafficClass} binds for ${p.carrierId}`);
        continue;
      }
      const plan = route.plan(messageId, p);
      const total = plan.total;
      const done = rows.filter((r) => r.state === 'submitted');
      if (done.length === total) {
        // Already accepted by a carrier (redelivery after a crash or rebalance): never send again.
        submitted.push(this.submittedDraft(event, done.map(submittedPartOf), total));
        continue;
      }
      const inFlight = rows.filter((r) => r.state === 'in_flight');
      if (inFlight.length > 0 && !resendInFlightAfterCrash[p.trafficClass]) {
        fail({ disposition: 'permanent', reason: 'submit_outcome_unknown', finalStatus: 'failed' }, 'a previous submit was interrupted; promotional traffic is not resent');
        continue;
      }
      const parts = plan.parts.filter(({ index }) => !done.some((r) => r.partIndex === index));
      for (const part of parts) toClaim.push({ messageId, partIndex: part.index, totalParts: total, carrierId: p.carrierId, attempt: p.attempt });
      work.push({ event, parts, total });
    }
    const claimed = await this.ledger.claim(toClaim);

    await Promise.all(
      work.map(async ({ event, parts, total }) => {
        const messageId = event.envelope.messageId!;
        const p = event.envelope.payload;
        const route = this.carriers.get(p.carrierId, p.trafficClass)!;
        const mine = parts.filter((part) => claimed.has(`${messageId}/${part.index}`));
        if (mine.length === 0) return; // another consumer holds these parts
        await withSpan(
          '@sms/carrier-dispatch',
          route.carrier.protocol === 'smpp' ? 'smpp submit_sm' : 'http carrier submit',
          {
            kind: SpanKind.CLIENT,
            parent: event.context,
            attributes: {
              'sms.message_id': messageId,
              'sms.tenant_id': event.envelope.tenantId,
              'sms.carrier': p.carrierId,
              'sms.route': p.routeId,
              'sms.lane': p.trafficClass,
              'sms.parts': total,
              'sms.attempt': p.attempt,
            },
          },
          async (span) => {
            // Each part's outcome goes to the ledger as soon as its answer arrives, not when the batch ends:
            // a crash then resends at most the parts still in flight.
            const results = await Promise.all(
              mine.map((part) =>
                route.submit(part.request).then(
                  (answer) => {
                    const { id: carrierMessageId, identified } = recordableCarrierMessageId(answer.messageId, messageId, part.index);
                    if (!identified) this.hooks.onUnidentifiedSubmit?.(p.carrierId, answer.messageId);
                    record({ messageId, partIndex: part.index, state: 'submitted', carrierMessageId }, p.trafficClass);
                    return { index: part.index, carrierMessageId, submittedAt: new Date() };
                  },
                  (error: unknown) => {
                    const failure = this.classify(error);
                    record({ messageId, partIndex: part.index, state: 'failed', error: failure.message.slice(0, 500) }, p.trafficClass);
                    return failure;
                  },
                ),
              ),
            );
            let firstFailure: SubmitFailure | undefined;
            const newlySubmitted: { index: number; carrierMessageId: string; submittedAt: Date }[] = [];
            for (const result of results) {
              if ('carrierMessageId' in result) {
                newlySubmitted.push(result);
                continue;
              }
              // The most severe verdict decides the message (a permanent part ends it, a failover part beats a retry).
              if (!firstFailure || severity[result.failure.disposition] > severity[firstFailure.failure.disposition]) firstFailure = result;
            }
            span.setAttribute('sms.status', firstFailure ? `failed:${firstFailure.failure.reason}` : 'submitted');
            if (firstFailure) {
              if (firstFailure.failure.disposition === 'retry') transient.push({ event, failure: firstFailure });
              else failed.push(this.failure(event, firstFailure));
              return;
            }
            const previously = (rowsByMessage.get(messageId) ?? []).filter((r) => r.state === 'submitted').map(submittedPartOf);
            submitted.push(this.submittedDraft(event, [...previously, ...newlySubmitted], total));
          },
        );
      }),
    );
    // Ledger first: once a submit_sm_resp is recorded, no redelivery can send that part again.
    await Promise.all(recorded);
    const scheduled = await this.planRetries(transient, failed);
    await this.retries.schedule(scheduled);
    await this.publisher.publishMany([
      // Built only from the validated dispatch event (the same field limits as `submitted`), ISO dates and
      // recordable carrier ids, so the publisher's own schema check (a zod parse a message) is skipped.
      { contract: SubmittedV1, drafts: submitted, prevalidated: true },
      // Each lane's failures to its own topic, so a promotional failure storm never delays an OTP's failover.
      ...trafficClasses.map((lane) => ({ contract: dispatchFailedTopicByLane[lane], drafts: failed.filter((d) => d.payload.trafficClass === lane) })),
    ]);
  }

  /**
   * Transient failures get another try on the same carrier after a backoff, through the retry table (the
   * partition moves on); once the retries are used up or the validity would pass, the router fails over.
   */
  private async planRetries(
    transient: { event: ConsumedEvent<DispatchPayload>; failure: SubmitFailure }[],
    failed: EventDraft<DispatchFailedPayload>[],
  ): Promise<ScheduledRetry[]> {
    if (transient.length === 0) return [];
    const sofar = await this.retries.retriesSoFar(
      transient.map(({ event }) => ({ messageId: event.envelope.messageId!, attempt: event.envelope.payload.attempt })),
    );
    const now = Date.now();
    const scheduled: ScheduledRetry[] = [];
    for (const { event, failure } of transient) {
      const p = event.envelope.payload;
      const retriesSoFar = sofar.get(`${event.envelope.messageId!}/${p.attempt}`) ?? 0;
      const decision = decideRetry({ retriesSoFar, now, validUntil: Date.parse(p.validUntil), settings: this.retrySettings, random: Math.random() });
      if (decision.kind === 'retry') {
        scheduled.push({
          messageId: event.envelope.messageId!,
          tenantId: event.envelope.tenantId,
          payload: p,
          retry: decision.retry,
          dueAt: decision.dueAt,
          reason: failure.failure.reason,
          traceparent: traceparentOf(event.context),
        });
        this.hooks.onScheduled?.(p.trafficClass, failure.failure.reason);
      } else {
        this.hooks.onExhausted?.(p.trafficClass, failure.failure.reason);
        const why = decision.why === 'attempts_exhausted' ? `after ${retriesSoFar} retries` : 'no time left in the validity period to retry';
        failed.push(this.failure(event, { ...failure, message: `${failure.message} (${why})` }));
      }
    }
    return scheduled;
  }

  private classify(error: unknown): SubmitFailure {
    if (error instanceof SmppCommandError) {
      return { failure: classifySmppStatus(error.commandStatus), carrierCode: commandStatusName(error.commandStatus), message: error.message };
    }
    if (error instanceof SmppSessionError) return { failure: classifySessionError(error.code), carrierCode: error.code, message: error.message };
    if (error instanceof HttpCarrierError) return { failure: error.failure, carrierCode: error.carrierCode, message: error.message };
    if (error instanceof BreakerOpenError) return { failure: classifySessionError('breaker_open'), message: error.message };
    return { failure: classifySessionError('unknown'), message: (error as Error).message ?? String(error) };
  }

  private submittedDraft(
    event: ConsumedEvent<DispatchPayload>,
    parts: { index: number; carrierMessageId: string; submittedAt: Date }[],
    total: number,
  ): EventDraft<SubmittedPayload> {
    const p = event.envelope.payload;
    return {
      tenantId: event.envelope.tenantId,
      messageId: event.envelope.messageId!,
      context: event.context,
      payload: {
        carrierId: p.carrierId,
        trafficClass: p.trafficClass,
        parts: parts
          .sort((a, b) => a.index - b.index)
          .map((x) => ({ index: x.index, carrierMessageId: x.carrierMessageId, submittedAt: x.submittedAt.toISOString() })),
        totalParts: total,
        acceptedAt: p.acceptedAt,
        validUntil: p.validUntil,
        callbackUrl: p.callbackUrl,
        reference: p.reference,
      },
    };
  }

  /** Failures handed to the router: `retry` reaches here only once its retries are used up, so it fails over. */
  private failure(event: ConsumedEvent<DispatchPayload>, f: SubmitFailure): EventDraft<DispatchFailedPayload> {
    const p = event.envelope.payload;
    return {
      tenantId: event.envelope.tenantId,
      messageId: event.envelope.messageId!,
      context: event.context,
      payload: {
        carrierId: p.carrierId,
        routeId: p.routeId,
        trafficClass: p.trafficClass,
        attempt: p.attempt,
        disposition: f.failure.disposition === 'permanent' ? 'permanent' : 'failover',
        finalStatus: f.failure.finalStatus,
        reason: { code: f.failure.reason, message: f.message.slice(0, 500), carrierCode: f.carrierCode },
        callbackUrl: p.callbackUrl,
        reference: p.reference,
      },
    };
  }
}
