import type { TrafficClass } from '@sms/contracts';
import type { DataSource } from 'typeorm';

export interface LedgerRow {
  messageId: string;
  partIndex: number;
  carrierId: string;
  attempt: number;
  state: 'in_flight' | 'submitted' | 'failed';
  carrierMessageId: string | null;
  submittedAt: Date | null;
}

export interface PartOutcome {
  messageId: string;
  partIndex: number;
  state: 'submitted' | 'failed';
  carrierMessageId?: string;
  error?: string;
}

type QueuedOutcome = { outcome: PartOutcome; resolve: () => void; reject: (error: unknown) => void };

export class SubmitLedgerRepository {
  /**
   * One group-commit queue per lane: a promotional blast's outcome UPDATE (up to 2,000 rows) must not hold an
   * OTP's outcome, whose dispatch batch (and the next OTP slice of its partition) waits for it to be recorded.
   */
  private readonly lanes = new Map<TrafficClass, { queued: QueuedOutcome[]; flushing: boolean }>();

  constructor(private readonly db: DataSource) {}

  /**
   * Records one part's outcome as soon as its answer arrives (group commit: outcomes of a lane arriving while
   * its write is under way go in the next one), so a crash can resend at most the parts still in flight, not
   * a whole batch's. Resolves once the outcome is in the database.
   */
  recordSoon(outcome: PartOutcome, lane: TrafficClass): Promise<void> {
    const queue = this.lanes.get(lane) ?? { queued: [], flushing: false };
    this.lanes.set(lane, queue);
    return new Promise<void>((resolve, reject) => {
      queue.queued.push({ outcome, resolve, reject });
      if (!queue.flushing) void this.flush(queue);
    });
  }

  private async flush(queue: { queued: QueuedOutcome[]; flushing: boolean }): Promise<void> {
    queue.flushing = true;
    try {
      while (queue.queued.length > 0) {
        const batch = queue.queued.splice(0, 2000);
        try {
          await this.record(batch.map((q) => q.outcome));
          for (const q of batch) q.resolve();
        } catch (error) {
          for (const q of batch) q.reject(error);
        }
      }
    } finally {
      queue.flushing = false;
    }
  }

  async findByMessages(messageIds: string[]): Promise<LedgerRow[]> {
    if (messageIds.length === 0) return [];
    const rows: {
      message_id: string;
      part_index: number;
      carrier_id: string;
      attempt: number;
      state: LedgerRow['state'];
      carrier_message_id: string | null;
      submitted_at: Date | null;
    }[] = await this.db.query(
      'SELECT message_id, part_index, carrier_id, attempt, state, carrier_message_id, submitted_at FROM submit_ledger WHERE message_id = ANY($1::uuid[])',
      [messageIds],
    );
    return rows.map((r) => ({
      messageId: r.message_id,
      partIndex: r.part_index,
      carrierId: r.carrier_id,
      attempt: r.attempt,
      state: r.state,
      carrierMessageId: r.carrier_message_id,
      submittedAt: r.submitted_at,
    }));
  }

  /**
   * Claims parts for a submit attempt (state in_flight). A part already submitted is never claimed, so two
   * replicas, or a redelivery racing a retry, cannot both send it.
   */
  async claim(parts: { messageId: string; partIndex: number; totalParts: number; carrierId: string; attempt: number }[]): Promise<Set<string>> {
    if (parts.length === 0) return new Set();
    const rows: { message_id: string; part_index: number }[] = await this.db.query(
      `INSERT INTO submit_ledger (message_id, part_index, total_parts, carrier_id, attempt, state)
       SELECT p.message_id, p.part_index, p.total_parts, p.carrier_id, p.attempt, 'in_flight'
       FROM jsonb_to_recordset($1::jsonb) AS p(message_id uuid, part_index int, total_parts int, carrier_id text, attempt int)
       ON CONFLICT (message_id, part_index) DO UPDATE
         SET carrier_id = EXCLUDED.carrier_id, attempt = EXCLUDED.attempt, state = 'in_flight', claimed_at = now(), error = NULL
         WHERE submit_ledger.state <> 'submitted'
       RETURNING message_id, part_index`,
      [
        JSON.stringify(
          parts.map((p) => ({
            message_id: p.messageId,
            part_index: p.partIndex,
            total_parts: p.totalParts,
            carrier_id: p.carrierId,
            attempt: p.attempt,
          })),
        ),
      ],
    );
    return new Set(rows.map((r) => `${r.message_id}/${r.part_index}`));
  }

  async record(outcomes: PartOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.db.query(
      `UPDATE submit_ledger l SET state = o.state, carrier_message_id = o.carrier_message_id, error = o.error,
         submitted_at = CASE WHEN o.state = 'submitted' THEN now() ELSE l.submitted_at END
       FROM jsonb_to_recordset($1::jsonb) AS o(message_id uuid, part_index int, state text, carrier_message_id text, error text)
       WHERE l.message_id = o.message_id AND l.part_index = o.part_index AND l.state <> 'submitted'`,
      [
        JSON.stringify(
          outcomes.map((o) => ({
            message_id: o.messageId,
            part_index: o.partIndex,
            state: o.state,
            carrier_message_id: o.carrierMessageId ?? null,
            error: o.error ?? null,
          })),
        ),
      ],
    );
  }
}
