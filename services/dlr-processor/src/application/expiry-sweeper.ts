import type { EventPublisher } from '@sms/kafka';
import type { Span } from '@sms/telemetry';
import type { DlrMetrics } from '../infra/dlr.metrics.js';
import type { DlrStore } from '../infra/dlr.repository.js';
import type { ServiceLogger } from './delivery-tracker.service.js';
import { SEQ_FINAL, startMessageSpan, statusContract, statusDraft } from './status-events.js';

export interface ExpirySweeperOptions {
  intervalMs: number;
  graceMs: number;
  pendingReceiptTtlMs: number;
  batchSize: number;
}

const EXPIRED_REASON = 'no final receipt by the validity period plus grace';

/**
 * Ends messages the carrier never reported on (expired, reason `expired_no_receipt`) and parks receipts
 * whose message never showed up. Safe with several replicas: expiry skips rows another transaction holds,
 * and parking is an idempotent flag.
 */
export class ExpirySweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly store: DlrStore,
    private readonly publisher: Pick<EventPublisher, 'publishMany'>,
    private readonly metrics: DlrMetrics,
    private readonly logger: ServiceLogger,
    private readonly options: ExpirySweeperOptions,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Stops the timer and waits for a sweep in progress, so shutdown never cuts a publish in half. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One full sweep; returns what it did (used by tests and logs). */
  async sweepOnce(): Promise<{ expired: number; parked: number }> {
    let expired = 0;
    for (;;) {
      const round = await this.expireRound();
      expired += round;
      if (round < this.options.batchSize || this.stopped) break;
    }
    const parked = await this.store.repository.parkStaleReceipts(this.options.pendingReceiptTtlMs);
    if (parked > 0) {
      this.metrics.receiptsParked.inc(parked);
      this.logger.warn(
        { parked, ttlMs: this.options.pendingReceiptTtlMs },
        'receipts parked: their message never arrived',
      );
    }
    if (expired > 0) this.logger.info({ expired }, 'messages expired without a final receipt');
    return { expired, parked };
  }

  private schedule(): void {
    if (this.stopped) return;
    // A chain of timeouts rather than an interval: a slow sweep never overlaps the next one.
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.warn({ error: (error as Error).message }, 'expiry sweep failed; will retry'),
        )
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.options.intervalMs);
  }

  private async expireRound(): Promise<number> {
    const spans: Span[] = [];
    const expired = await this.store.transaction(async (tx) => {
      const rows = await tx.expireOverdue(this.options.graceMs, this.options.batchSize, EXPIRED_REASON);
      if (rows.length === 0) return rows;
      const drafts = rows.map((row) => {
        const { span, context } = startMessageSpan('expire message', row, { 'sms.status': 'expired' });
        spans.push(span);
        return statusDraft(row, context, {
          status: 'expired',
          reason: { code: 'expired_no_receipt', message: EXPIRED_REASON },
          parts: { total: row.totalParts, delivered: row.delivered, failed: row.failed },
          sequence: SEQ_FINAL,
          changedAt: row.finalAt.toISOString(),
        });
      });
      try {
        // Before the commit: if the publish fails the messages stay open and the next sweep retries.
        await this.publisher.publishMany([{ contract: statusContract, drafts }]);
      } finally {
        for (const span of spans.splice(0)) span.end();
      }
      return rows;
    });
    if (expired.length > 0) {
      this.metrics.statusChanges.inc({ status: 'expired' }, expired.length);
      for (const row of expired) {
        this.metrics.acceptToFinal.observe(
          { status: 'expired', traffic_class: row.trafficClass },
          Math.max(0, (row.finalAt.getTime() - row.acceptedAt.getTime()) / 1000),
        );
      }
    }
    return expired.length;
  }
}
