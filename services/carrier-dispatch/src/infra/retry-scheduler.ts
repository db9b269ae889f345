import { dispatchTopicByLane, type DispatchPayload, type TrafficClass } from '@sms/contracts';
import type { EventPublisher } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { contextFromTraceparent } from '@sms/telemetry';
import type { DataSource } from 'typeorm';

export interface ScheduledRetry {
  messageId: string;
  tenantId: string;
  payload: DispatchPayload;
  retry: number;
  dueAt: Date;
  reason: string;
  /** The failed dispatch's trace context, so the republished retry continues the message's trace. */
  traceparent?: string;
}

/**
 * Durable retries on the same carrier. A transiently failed dispatch is written here with its due time and
 * its partition moves on; the poller republishes due rows on their lane topic (the same consumer, limits
 * and ledger as a first attempt). Publish happens before the row is released, inside the row lock, so a
 * crash republishes (harmless: the ledger never resubmits a submitted part) rather than loses a retry.
 */
export class RetryScheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastPurge = 0;
  onReleased?: (count: number) => void;

  constructor(
    private readonly db: DataSource,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  /** Retries already counted per message and router attempt. */
  async retriesSoFar(keys: { messageId: string; attempt: number }[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const rows: { message_id: string; attempt: number; retries: number }[] = await this.db.query(
      `SELECT r.message_id, r.attempt, r.retries FROM dispatch_retries r
       JOIN jsonb_to_recordset($1::jsonb) AS k(message_id uuid, attempt int) ON k.message_id = r.message_id AND k.attempt = r.attempt`,
      [JSON.stringify(keys.map((k) => ({ message_id: k.messageId, attempt: k.attempt })))],
    );
    return new Map(rows.map((r) => [`${r.message_id}/${r.attempt}`, r.retries]));
  }

  async schedule(retries: ScheduledRetry[]): Promise<void> {
    if (retries.length === 0) return;
    await this.db.query(
      `INSERT INTO dispatch_retries (message_id, attempt, lane, retries, state, due_at, tenant_id, payload, reason, traceparent)
       SELECT r.message_id, r.attempt, r.lane, r.retries, 'scheduled', r.due_at, r.tenant_id, r.payload, r.reason, r.traceparent
       FROM jsonb_to_recordset($1::jsonb)
         AS r(message_id uuid, attempt int, lane text, retries int, due_at timestamptz, tenant_id text, payload jsonb, reason text, traceparent text)
       ON CONFLICT (message_id, attempt) DO UPDATE
         SET retries = GREATEST(dispatch_retries.retries, EXCLUDED.retries), state = 'scheduled', due_at = EXCLUDED.due_at,
             reason = EXCLUDED.reason, traceparent = COALESCE(EXCLUDED.traceparent, dispatch_retries.traceparent), updated_at = now()`,
      [
        JSON.stringify(
          retries.map((r) => ({
            message_id: r.messageId,
            attempt: r.payload.attempt,
            lane: r.payload.trafficClass,
            retries: r.retry,
            due_at: r.dueAt.toISOString(),
            tenant_id: r.tenantId,
            payload: r.payload,
            reason: r.reason,
            traceparent: r.traceparent ?? null,
          })),
        ),
      ],
    );
  }

  start(): void {
    const tick = () => {
      this.running = this.releaseDue()
        .then(async (count) => {
          if (count === 0 && Date.now() - this.lastPurge > 600_000) {
            this.lastPurge = Date.now();
            await this.purgeReleased();
          }
          // Drain a backlog without waiting a full poll interval between pages.
          this.timer = setTimeout(tick, count > 0 ? 0 : this.pollMs);
        })
        .catch((error: unknown) => {
          this.logger.warn({ error: (error as Error).message }, 'retry release failed; will try again');
          this.timer = setTimeout(tick, this.pollMs);
        });
    };
    this.timer = setTimeout(tick, this.pollMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    clearTimeout(this.timer);
  }

  /**
   * Released rows only matter while their router attempt is still being retried (minutes); after a day they
   * are history.
   */
  async purgeReleased(): Promise<void> {
    await this.db.query(`DELETE FROM dispatch_retries WHERE state = 'released' AND updated_at < now() - interval '1 day'`);
  }

  /** Republishes up to one page of due retries; returns how many. */
  async releaseDue(limit = 200): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows: { message_id: string; attempt: number; tenant_id: string; lane: TrafficClass; payload: DispatchPayload; traceparent: string | null }[] = await tx.query(
        `SELECT message_id, attempt, tenant_id, lane, payload, traceparent FROM dispatch_retries
         WHERE state = 'scheduled' AND due_at <= now() ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return 0;
      const byLane = new Map<TrafficClass, typeof rows>();
      for (const row of rows) byLane.set(row.lane, [...(byLane.get(row.lane) ?? []), row]);
      await this.publisher.publishMany(
        [...byLane.entries()].map(([lane, laneRows]) => ({
          contract: dispatchTopicByLane[lane],
          drafts: laneRows.map((r) => ({ tenantId: r.tenant_id, messageId: r.message_id, payload: r.payload, context: contextFromTraceparent(r.traceparent) })),
        })),
      );
      await tx.query(
        `UPDATE dispatch_retries r SET state = 'released', updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS k(message_id uuid, attempt int)
         WHERE r.message_id = k.message_id AND r.attempt = k.attempt`,
        [JSON.stringify(rows.map((r) => ({ message_id: r.message_id, attempt: r.attempt })))],
      );
      this.onReleased?.(rows.length);
      return rows.length;
    });
  }
}
