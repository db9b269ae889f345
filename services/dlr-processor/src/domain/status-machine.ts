import { finalReceiptStatuses, type ReceiptStatus } from './receipt-parser.js';

/**
 * Delivery status of one message and its parts, driven by receipts. Pure and monotonic:
 * - a part moves forward only (pending -> accepted/enroute -> final), and its first final status stays;
 * - the message becomes final once its outcome can no longer change, and never moves again;
 * - every receipt gets an outcome, so duplicates, late and out-of-order receipts are recorded, not applied.
 *
 * Multipart outcome: delivered when every part is delivered. Otherwise the failing parts decide: all
 * expired -> expired, all rejected -> rejected, anything else (an undelivered part, or mixed failures) ->
 * undelivered. An undelivered part therefore ends the message at once (no later receipt can change the
 * outcome), while an expired or rejected part waits for the other parts, because a later different failure
 * would turn the outcome into undelivered. That is what makes the outcome independent of arrival order.
 */

export type PartStatus = 'pending' | ReceiptStatus;
export type FinalDeliveryStatus = 'delivered' | 'undelivered' | 'expired' | 'rejected';
/** The message statuses this service owns: `submitted` until a final delivery status. */
export type DeliveryStatus = 'submitted' | FinalDeliveryStatus;

export interface PartState {
  index: number;
  status: PartStatus;
  /** Raw stat and err of the receipt that set the status. */
  stat?: string;
  err?: string;
}

export interface MessageState {
  status: DeliveryStatus;
  /** Sorted by index; one entry per submitted part. */
  parts: readonly PartState[];
}

export type ReceiptOutcome =
  /** The part moved forward (the message may have become final too). */
  | 'applied'
  /** The part already has this status. */
  | 'duplicate'
  /** Older than what the part has (progress after a final, or a same-rank progress). */
  | 'out_of_order'
  /** The part already has a different final status: the first final wins. */
  | 'conflict'
  /** The message is already final. */
  | 'late'
  /** No part with this index (the carrier id points at a part the submit did not record). */
  | 'unknown_part';

export interface PartCounts {
  total: number;
  delivered: number;
  failed: number;
}

export interface Decision {
  status: FinalDeliveryStatus;
  /** The part whose raw stat/err explains the outcome (deterministic: lowest index of its kind). */
  representativePart: number;
}

export interface ApplyResult {
  state: MessageState;
  outcome: ReceiptOutcome;
  applied: boolean;
  /** Set when this receipt made the message final. */
  decision?: Decision;
}

export interface Receipt {
  partIndex: number;
  status: ReceiptStatus;
  stat?: string;
  err?: string;
}

export function isFinalPartStatus(status: PartStatus): status is FinalDeliveryStatus {
  return status !== 'pending' && finalReceiptStatuses.has(status);
}

export function isFinalDeliveryStatus(status: DeliveryStatus): status is FinalDeliveryStatus {
  return status !== 'submitted';
}

function partRank(status: PartStatus): number {
  if (status === 'pending') return 0;
  if (status === 'accepted' || status === 'enroute') return 1;
  return 2;
}

export function newMessageState(partIndexes: readonly number[]): MessageState {
  return {
    status: 'submitted',
    parts: [...new Set(partIndexes)]
      .sort((a, b) => a - b)
      .map((index) => ({ index, status: 'pending' as const })),
  };
}

export function applyReceipt(state: MessageState, receipt: Receipt): ApplyResult {
  if (isFinalDeliveryStatus(state.status)) return { state, outcome: 'late', applied: false };
  const part = state.parts.find((p) => p.index === receipt.partIndex);
  if (!part) return { state, outcome: 'unknown_part', applied: false };
  if (part.status === receipt.status) return { state, outcome: 'duplicate', applied: false };
  if (isFinalPartStatus(part.status)) {
    return {
      state,
      outcome: finalReceiptStatuses.has(receipt.status) ? 'conflict' : 'out_of_order',
      applied: false,
    };
  }
  if (partRank(receipt.status) <= partRank(part.status))
    return { state, outcome: 'out_of_order', applied: false };

  const updated: PartState = {
    index: part.index,
    status: receipt.status,
    stat: receipt.stat,
    err: receipt.err,
  };
  const parts = state.parts.map((p) => (p.index === part.index ? updated : p));
  const decision = decide(parts);
  return {
    state: { status: decision?.status ?? state.status, parts },
    outcome: 'applied',
    applied: true,
    decision,
  };
}

/** The message outcome, once no further receipt can change it; undefined while it still can. */
export function decide(parts: readonly PartState[]): Decision | undefined {
  const failed = parts.filter((p) => isFinalPartStatus(p.status) && p.status !== 'delivered');
  const failedKinds = new Set(failed.map((p) => p.status));
  if (failedKinds.has('undelivered') || failedKinds.size > 1) {
    const undelivered = failed.find((p) => p.status === 'undelivered') ?? failed[0]!;
    return { status: 'undelivered', representativePart: undelivered.index };
  }
  if (parts.length === 0 || !parts.every((p) => isFinalPartStatus(p.status))) return undefined;
  if (failed.length === 0) return { status: 'delivered', representativePart: parts[0]!.index };
  return { status: failed[0]!.status as FinalDeliveryStatus, representativePart: failed[0]!.index };
}

export function partCounts(parts: readonly PartState[], total = parts.length): PartCounts {
  return {
    total,
    delivered: parts.filter((p) => p.status === 'delivered').length,
    failed: parts.filter((p) => isFinalPartStatus(p.status) && p.status !== 'delivered').length,
  };
}
