import { isFinalStatus, type MessageStatus } from '@sms/contracts';
import type { EntryPoint, TrafficClass } from './profile.js';
import type { BodyKind } from './numbers.js';

/** What the harness knows about one generated message, all times epoch ms from the system's own clocks. */
export interface TrackedMessage {
  seq: number;
  phase: number;
  trafficClass: TrafficClass;
  body: BodyKind;
  entry: EntryPoint;
  /** Client clock: when the request/event left the harness. */
  sentAt: number;
  /** Client clock: when the REST response (or produce ack) came back. */
  ackedAt?: number;
  skipped?: boolean;
  sendError?: string;
  id?: string;
  segments?: number;
  /** ingest's acceptedAt. */
  acceptedAt?: number;
  routedAt?: number;
  submittedAt?: number;
  /** Simulator receivedAt of the first and the last accepted part. */
  carrierFirstAt?: number;
  carrierAt?: number;
  carrierParts: number;
  finalAt?: number;
  finalStatus?: MessageStatus;
  finalReason?: string;
  conflictingFinal?: boolean;
  /** Webhook receiver's clock, first webhook with a final status. */
  webhookAt?: number;
  finalWebhooks: number;
  webhooks: number;
}

/** Correlates everything by the message's `reference` (`<runId>:<seq>`) and destination number. */
export class Tracker {
  readonly messages: TrackedMessage[] = [];
  readonly errors = new Map<string, number>();
  counts = { accepted: 0, routed: 0, submitted: 0, carrier: 0, final: 0, webhooked: 0 };

  constructor(readonly runId: string) {}

  reference(seq: number): string {
    return `${this.runId}:${seq}`;
  }

  seqOf(reference: string | null | undefined): number | undefined {
    if (!reference || !reference.startsWith(`${this.runId}:`)) return undefined;
    const seq = Number(reference.slice(this.runId.length + 1));
    return Number.isInteger(seq) && seq >= 0 && seq < this.messages.length ? seq : undefined;
  }

  error(category: string, n = 1): void {
    this.errors.set(category, (this.errors.get(category) ?? 0) + n);
  }

  onAccepted(seq: number, id: string, acceptedAtIso: string, segments?: number): void {
    const m = this.messages[seq]!;
    if (m.acceptedAt === undefined) {
      m.acceptedAt = Date.parse(acceptedAtIso);
      this.counts.accepted++;
    }
    m.id ??= id;
    if (segments !== undefined) m.segments = segments;
  }

  onStatus(seq: number, status: MessageStatus, changedAtIso: string, reason?: string): void {
    const m = this.messages[seq]!;
    const at = Date.parse(changedAtIso);
    if (status === 'routed' && m.routedAt === undefined) {
      m.routedAt = at;
      this.counts.routed++;
    } else if (status === 'submitted' && m.submittedAt === undefined) {
      m.submittedAt = at;
      this.counts.submitted++;
    } else if (isFinalStatus(status)) {
      if (m.finalStatus === undefined) {
        m.finalStatus = status;
        m.finalAt = at;
        m.finalReason = reason;
        this.counts.final++;
        if (status !== 'delivered') this.error(`final:${status}${reason ? `/${reason}` : ''}`);
      } else if (m.finalStatus !== status) {
        // The first final wins everywhere; a different one later is a bug worth counting.
        if (!m.conflictingFinal) this.error('conflicting_final_status');
        m.conflictingFinal = true;
      }
    }
  }

  onCarrierSubmit(seq: number, receivedAt: number): void {
    const m = this.messages[seq]!;
    if (m.carrierParts === 0) this.counts.carrier++;
    m.carrierParts++;
    m.carrierFirstAt = Math.min(m.carrierFirstAt ?? Infinity, receivedAt);
    m.carrierAt = Math.max(m.carrierAt ?? 0, receivedAt);
  }

  onWebhook(seq: number, status: MessageStatus, receivedAt: number): void {
    const m = this.messages[seq]!;
    m.webhooks++;
    if (isFinalStatus(status)) {
      m.finalWebhooks++;
      if (m.webhookAt === undefined) {
        m.webhookAt = receivedAt;
        this.counts.webhooked++;
      }
    }
  }

  /** Every accepted message has a final status and its final webhook. */
  complete(): boolean {
    for (const m of this.messages) {
      if (m.skipped || m.sendError) continue;
      if (m.acceptedAt === undefined || m.finalAt === undefined || m.webhookAt === undefined) return false;
    }
    return true;
  }
}
