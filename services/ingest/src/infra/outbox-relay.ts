import type { DataSource } from 'typeorm';
import { allContracts, type EventContract } from '@sms/contracts';
import type { EventPublisher } from '@sms/kafka';
import { contextFromTraceparent } from '@sms/telemetry';
import type { Logger } from '@sms/platform';

type OutboxRow = {
  id: string;
  topic: string;
  event_id: string;
  tenant_id: string;
  message_id: string | null;
  payload: unknown;
  trace_parent: string | null;
  created_at: Date;
};

/**
 * Relays outbox rows to Kafka. Rows are locked, published, then deleted in one transaction: if the process
 * dies after the publish but before the commit, the rows are published again with the same event ids, and
 * consumers dedupe on message id / event id. So an accepted message is always published, and duplicates
 * are only ever byte-identical redeliveries.
 *
 * Woken in-process right after a commit (low latency for OTP), with a poll as the fallback for rows
 * written by another replica or left by a crash. SKIP LOCKED lets several replicas relay side by side.
 */
export class OutboxRelay {
  private readonly contracts = new Map<string, EventContract<unknown>>(allContracts.map((c) => [c.topic, c]));
  private timer?: NodeJS.Timeout;
  private running = false;
  private draining?: Promise<void>;
  private wakeRequested = false;
  onPublished?: (count: number, oldestCreatedAt: Date) => void;

  constructor(
    private readonly db: DataSource,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly options: { pollMs: number; batch: number },
  ) {}

  start(): void {
    this.running = true;
    const tick = () => {
      if (!this.running) return;
      this.wake();
      this.timer = setTimeout(tick, this.options.pollMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.draining;
  }

  /** Asks for a drain; coalesces while one is running. */
  wake(): void {
    if (!this.running) return;
    if (this.draining) {
      this.wakeRequested = true;
      return;
    }
    this.draining = this.drain()
      .catch((error: unknown) => this.logger.warn({ error: (error as Error).message }, 'outbox relay failed; will retry'))
      .finally(() => {
        this.draining = undefined;
        if (this.wakeRequested) {
          this.wakeRequested = false;
          this.wake();
        }
      });
  }

  /** Publishes batches until the outbox is empty. */
  async drain(): Promise<void> {
    for (;;) {
      const published = await this.relayBatch();
      if (published < this.options.batch) return;
    }
  }

  private async relayBatch(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows: OutboxRow[] = await tx.query(
        'SELECT * FROM outbox WHERE available_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [this.options.batch],
      );
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, OutboxRow[]>();
      for (const row of rows) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
      await this.publisher.publishMany(
        [...byTopic.entries()].map(([topic, topicRows]) => {
          const contract = this.contracts.get(topic);
          if (!contract) throw new Error(`outbox row for unknown topic ${topic}`);
          return {
            contract,
            drafts: topicRows.map((r) => ({
              eventId: r.event_id,
              tenantId: r.tenant_id,
              messageId: r.message_id ?? undefined,
              payload: r.payload,
              occurredAt: r.created_at,
              context: contextFromTraceparent(r.trace_parent),
            })),
          };
        }),
      );
      await tx.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      this.onPublished?.(rows.length, rows[0]!.created_at);
      return rows.length;
    });
  }
}
