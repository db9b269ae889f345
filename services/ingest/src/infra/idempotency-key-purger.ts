import type { DataSource } from 'typeorm';
import type { Logger } from '@sms/platform';

/**
 * Deletes idempotency keys past their 24 hours. A key is only honoured for 24 h (the insert takes over an
 * expired row), but without this the table would keep every key ever sent, batch keys with responses of
 * up to a megabyte included. Deletes in bounded chunks (index on created_at) so a purge never holds long
 * locks or one huge transaction; several replicas purging at once only share the work.
 */
export class IdempotencyKeyPurger {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly db: DataSource,
    private readonly logger: Logger,
    private readonly options: { intervalMs: number; retentionHours: number; chunk: number },
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.purge()
        .catch((error: unknown) => {
          this.logger.warn({ error: (error as Error).message }, 'idempotency key purge failed; will retry');
          return 0;
        })
        .finally(() => {
          this.running = undefined;
        });
      this.timer = setTimeout(tick, this.options.intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Deletes every expired key, a chunk at a time; returns how many. */
  async purge(): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ n }] = await this.db.query<{ n: number }[]>(
        `WITH expired AS (
           DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) LIMIT $2))
           RETURNING 1)
         SELECT count(*)::int AS n FROM expired`,
        [this.options.retentionHours, this.options.chunk],
      ) as [{ n: number }];
      total += n;
      if (n < this.options.chunk) break;
    }
    if (total > 0) this.logger.info({ deleted: total }, 'expired idempotency keys deleted');
    return total;
  }
}
