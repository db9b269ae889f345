import {
  DlrReceivedV1,
  SubmittedV1,
  type DlrReceivedPayload,
  type StatusChangedPayload,
  type SubmittedPayload,
} from '@sms/contracts';
import type { ConsumedEvent, EventDraft, EventPublisher } from '@sms/kafka';
import {
  SpanStatusCode,
  contextFromTraceparent,
  traceparentOf,
  type Context,
  type Span,
} from '@sms/telemetry';
import { carrierCodeOf, parseReceipt, redactReceiptText } from '../domain/receipt-parser.js';
import { applyReceipt, partCounts, type Decision, type PartStatus } from '../domain/status-machine.js';
import type { DlrMetrics } from '../infra/dlr.metrics.js';
import type {
  CarrierKey,
  DlrRepository,
  DlrStore,
  FinalUpdate,
  HistoryRow,
  PartRef,
  PendingReceipt,
  StoredMessage,
} from '../infra/dlr.repository.js';
import { SEQ_FINAL, SEQ_SUBMITTED, startMessageSpan, statusContract, statusDraft } from './status-events.js';

export interface ServiceLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** A receipt whose part is known, from the topic or from the held receipts. */
interface CorrelatedReceipt extends PendingReceipt, PartRef {
  heldAt?: Date;
  /** The receipt's own trace (its consumer span), linked from the span in the message's trace. */
  receiptContext?: Context;
}

/** What applying receipts produced, written and published by the caller inside its transaction. */
interface Applied {
  partUpdates: Map<
    string,
    { messageId: string; partIndex: number; status: PartStatus; rawStat?: string; rawErr?: string }
  >;
  finals: FinalUpdate[];
  history: HistoryRow[];
  drafts: EventDraft<StatusChangedPayload>[];
  spans: Span[];
  outcomes: string[];
  latencies: { status: string; trafficClass: string; seconds: number }[];
}

const keyOf = (k: CarrierKey) => `${k.carrierId}\u0000${k.carrierMessageId}`;

/**
 * Correlates carrier receipts with submitted messages and turns them into status events.
 *
 * Each consumed batch is one transaction; its status events are published before the commit, so a crash
 * between the two redelivers the batch and publishes again (at-least-once, receivers dedupe on the
 * sequence) instead of committing a status change whose event was never sent.
 */
export class DeliveryTracker {
  constructor(
    private readonly store: DlrStore,
    private readonly publisher: Pick<EventPublisher, 'publishMany'>,
    private readonly metrics: DlrMetrics,
    private readonly logger: ServiceLogger,
  ) {}

  async onSubmitted(batch: ConsumedEvent<SubmittedPayload>[]): Promise<void> {
    // A redelivered event can share a batch with its original: the first one counts.
    const firstByMessage = new Map<string, ConsumedEvent<SubmittedPayload>>();
    for (const event of batch)
      if (!firstByMessage.has(event.envelope.messageId!))
        firstByMessage.set(event.envelope.messageId!, event);
    const events = [...firstByMessage.values()];
    const parts = events.flatMap((event) =>
      event.envelope.payload.parts.map((part) => ({
        messageId: event.envelope.messageId!,
        partIndex: part.index,
        carrierId: event.envelope.payload.carrierId,
        carrierMessageId: part.carrierMessageId,
        submittedAt: part.submittedAt,
      })),
    );

    const committed = await this.store.transaction(async (tx) => {
      await tx.lockCarrierKeys(parts);
      const { fresh, inserted } = await tx.insertMessagesWithParts(
        events.map((event) => {
          const p = event.envelope.payload;
          return {
            messageId: event.envelope.messageId!,
            tenantId: event.envelope.tenantId,
            carrierId: p.carrierId,
            trafficClass: p.trafficClass,
            totalParts: p.totalParts,
            callbackUrl: p.callbackUrl,
            reference: p.reference,
            // The consumer span of this event: receipts arriving later continue the trace from here.
            traceParent: traceparentOf(event.context),
            validUntil: p.validUntil,
            acceptedAt: p.acceptedAt,
            submittedAt: latestSubmit(p),
          };
        }),
        parts,
      );
      const freshParts = parts.filter((p) => fresh.has(p.messageId));
      if (inserted.length < freshParts.length) {
        const insertedKeys = new Set(inserted.map((p) => `${p.messageId}:${p.partIndex}`));
        const clashes = freshParts.filter((p) => !insertedKeys.has(`${p.messageId}:${p.partIndex}`));
        this.logger.warn(
          {
            clashes: clashes.map((c) => ({
              messageId: c.messageId,
              part: c.partIndex,
              carrierId: c.carrierId,
            })),
          },
          'carrier message id already belongs to another message; the part cannot be correlated',
        );
      }

      const submittedDrafts: EventDraft<StatusChangedPayload>[] = [];
      for (const event of events) {
        const messageId = event.envelope.messageId!;
        if (!fresh.has(messageId)) continue;
        const p = event.envelope.payload;
        event.span.setAttributes({
          'sms.carrier': p.carrierId,
          'sms.lane': p.trafficClass,
          'sms.status': 'submitted',
        });
        submittedDrafts.push(
          statusDraft(
            {
              messageId,
              tenantId: event.envelope.tenantId,
              carrierId: p.carrierId,
              trafficClass: p.trafficClass,
              callbackUrl: p.callbackUrl,
              reference: p.reference,
            },
            event.context,
            {
              status: 'submitted',
              reason: {
                code: 'submitted',
                message: `${p.parts.length} of ${p.totalParts} part(s) accepted by the carrier`,
              },
              parts: { total: p.totalParts, delivered: 0, failed: 0 },
              sequence: SEQ_SUBMITTED,
              changedAt: latestSubmit(p),
            },
          ),
        );
      }

      // Receipts that overtook their submitted event are applied now that their parts exist.
      const held = await tx.heldReceiptsFor([...fresh]);
      const applied = await this.applyAndWrite(tx, held, held.map((r) => r.eventId));
      try {
        const drafts = [...submittedDrafts, ...applied.drafts];
        // One request: a message's `submitted` precedes its final status on the same partition.
        if (drafts.length > 0) await this.publisher.publishMany([{ contract: statusContract, drafts }]);
      } finally {
        for (const span of applied.spans) span.end();
      }
      return { submitted: submittedDrafts.length, applied };
    });

    if (committed.submitted > 0) this.metrics.statusChanges.inc({ status: 'submitted' }, committed.submitted);
    this.recordMetrics(committed.applied);
  }

  async onReceipts(batch: ConsumedEvent<DlrReceivedPayload>[]): Promise<void> {
    const events = [...new Map(batch.map((e) => [e.envelope.eventId, e])).values()];
    const keys = events.map((e) => ({
      carrierId: e.envelope.payload.carrierId,
      carrierMessageId: e.envelope.payload.carrierMessageId,
    }));

    const committed = await this.store.transaction(async (tx) => {
      await tx.lockCarrierKeys(keys);
      const correlation = await tx.correlate(keys, events.map((e) => e.envelope.eventId));
      const seen = correlation.seen;
      const fresh = events.filter((e) => !seen.has(e.envelope.eventId));
      const parts = new Map(correlation.parts.map((p) => [keyOf(p), p]));

      const held: PendingReceipt[] = [];
      const correlated: CorrelatedReceipt[] = [];
      for (const event of fresh) {
        const receipt = pendingOf(event);
        const part = parts.get(keyOf(receipt));
        if (!part) {
          held.push(receipt);
          continue;
        }
        event.span.setAttributes({ 'sms.message_id': part.messageId, 'sms.part': part.partIndex });
        correlated.push({ ...receipt, ...part, receiptContext: event.context });
      }
      // Never dropped: the submitted event may still be on its way (or its consumer behind).
      await tx.holdReceipts(held);
      const applied = await this.applyAndWrite(tx, correlated);
      try {
        if (applied.drafts.length > 0)
          await this.publisher.publishMany([{ contract: statusContract, drafts: applied.drafts }]);
      } finally {
        for (const span of applied.spans) span.end();
      }
      return { redelivered: events.length - fresh.length, held: held.length, applied };
    });

    if (committed.redelivered > 0)
      this.metrics.receipts.inc({ outcome: 'redelivered' }, committed.redelivered);
    if (committed.held > 0) this.metrics.receipts.inc({ outcome: 'held' }, committed.held);
    this.recordMetrics(committed.applied);
  }

  /** Runs the receipts through the status machine in order and writes parts, finals and history. */
  /** `releaseHeld`: held receipts among `receipts`, deleted from the held ones in the same write. */
  private async applyAndWrite(tx: DlrRepository, receipts: CorrelatedReceipt[], releaseHeld: string[] = []): Promise<Applied> {
    const messages = await tx.loadMessagesForUpdate([...new Set(receipts.map((r) => r.messageId))]);
    const applied = this.apply(messages, receipts);
    try {
      await tx.writeApplied([...applied.partUpdates.values()], applied.finals, applied.history, releaseHeld);
    } catch (error) {
      for (const span of applied.spans) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        span.end();
      }
      throw error;
    }
    return applied;
  }

  private apply(messages: Map<string, StoredMessage>, receipts: CorrelatedReceipt[]): Applied {
    const result: Applied = {
      partUpdates: new Map(),
      finals: [],
      history: [],
      drafts: [],
      spans: [],
      outcomes: [],
      latencies: [],
    };
    for (const receipt of receipts) {
      const message = messages.get(receipt.messageId);
      if (!message) continue; // cannot happen: parts reference their message
      const parsed = parseReceipt({
        messageState: receipt.messageState,
        networkErrorCode: receipt.networkErrorCode,
        text: receipt.receiptText,
      });
      const { span, context } = startMessageSpan(
        'apply receipt',
        message,
        { 'sms.part': receipt.partIndex, 'sms.receipt.held': receipt.heldAt !== undefined },
        receipt.receiptContext ??
          (receipt.traceParent ? contextFromTraceparent(receipt.traceParent) : undefined),
      );
      result.spans.push(span);

      let outcome: string;
      let applied = false;
      let decision: Decision | undefined;
      if (parsed.kind === 'unparseable') {
        outcome = 'unparseable';
      } else {
        const step = applyReceipt(
          { status: message.status, parts: message.parts },
          { partIndex: receipt.partIndex, status: parsed.status, stat: parsed.stat, err: parsed.err },
        );
        outcome = step.outcome;
        applied = step.applied;
        decision = step.decision;
        if (step.applied) {
          message.status = step.state.status;
          message.parts = [...step.state.parts];
          const part = step.state.parts.find((p) => p.index === receipt.partIndex)!;
          result.partUpdates.set(`${message.messageId}:${part.index}`, {
            messageId: message.messageId,
            partIndex: part.index,
            status: part.status,
            rawStat: part.stat,
            rawErr: part.err,
          });
        }
      }
      span.setAttributes({
        'sms.status': message.status,
        'sms.receipt.outcome': outcome,
        'sms.receipt.status': parsed.kind === 'parsed' ? parsed.status : 'unparseable',
      });
      result.outcomes.push(outcome);
      result.history.push({
        eventId: receipt.eventId,
        messageId: message.messageId,
        partIndex: receipt.partIndex,
        carrierId: receipt.carrierId,
        carrierMessageId: receipt.carrierMessageId,
        messageState: receipt.messageState,
        networkErrorCode: receipt.networkErrorCode,
        rawStat: parsed.stat,
        rawErr: parsed.err,
        receiptText: receipt.receiptText,
        receiptStatus: parsed.kind === 'parsed' ? parsed.status : undefined,
        applied,
        outcome,
        messageStatus: message.status,
        receivedAt: receipt.receivedAt,
        heldAt: receipt.heldAt,
      });

      if (decision) {
        const counts = partCounts(message.parts, message.totalParts);
        const representative = message.parts.find((p) => p.index === decision.representativePart);
        const reason = {
          code: decision.status,
          message:
            decision.status === 'delivered'
              ? `${counts.delivered} of ${counts.total} part(s) delivered`
              : `${counts.failed} of ${counts.total} part(s) failed`,
          carrierCode: representative ? carrierCodeOf(representative) : undefined,
        };
        result.finals.push({
          messageId: message.messageId,
          status: decision.status,
          reasonCode: reason.code,
          reasonMessage: reason.message,
          carrierCode: reason.carrierCode,
          sequence: SEQ_FINAL,
          finalAt: receipt.receivedAt,
        });
        result.drafts.push(
          statusDraft(message, context, {
            status: decision.status,
            reason,
            parts: counts,
            sequence: SEQ_FINAL,
            changedAt: receipt.receivedAt,
          }),
        );
        result.latencies.push({
          status: decision.status,
          trafficClass: message.trafficClass,
          seconds: Math.max(0, (Date.parse(receipt.receivedAt) - message.acceptedAt.getTime()) / 1000),
        });
      }
    }
    return result;
  }

  private recordMetrics(applied: Applied): void {
    for (const outcome of applied.outcomes) this.metrics.receipts.inc({ outcome });
    for (const draft of applied.drafts) this.metrics.statusChanges.inc({ status: draft.payload.status });
    for (const l of applied.latencies)
      this.metrics.acceptToFinal.observe({ status: l.status, traffic_class: l.trafficClass }, l.seconds);
  }
}

function pendingOf(event: ConsumedEvent<DlrReceivedPayload>): PendingReceipt {
  const p = event.envelope.payload;
  return {
    eventId: event.envelope.eventId,
    carrierId: p.carrierId,
    carrierMessageId: p.carrierMessageId,
    messageState: p.messageState,
    networkErrorCode: p.networkErrorCode,
    receiptText: redactReceiptText(p.text),
    receivedAt: p.receivedAt,
    traceParent: traceparentOf(event.context),
  };
}

function latestSubmit(p: SubmittedPayload): string {
  return p.parts.map((part) => part.submittedAt).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}

export const dlrProcessorContracts = [SubmittedV1, DlrReceivedV1];
