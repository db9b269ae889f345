import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import {
  AcceptedOtpV1,
  LEGACY_ACCEPTED_TOPIC,
  StatusChangedV1,
  acceptedContracts,
  acceptedTopicByLane,
  allContracts,
  isAcceptedTopic,
  type AcceptedPayload,
  type EventContract,
  type StatusChangedPayload,
} from '@sms/contracts';
import type { EventDraft, EventPublisher } from '@sms/kafka';
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
 *
 * Throughput: one loop is bound by latency (select, publish and wait for Kafka's ack, delete, commit), not
 * by CPU. So when a batch comes back full (a backlog, e.g. after a bulk send) up to `loops - 1` helper loops
 * join the main one; SKIP LOCKED gives each disjoint rows, and one loop's select overlaps another's publish.
 * The helpers take only accepted rows, whose order does not matter (one event per message, and the router
 * consumes them by message key); every other row (api-key-changed: a key's creation must reach consumers
 * before its revocation) stays with the main loop, which takes rows in id order, one batch at a time.
 */
export class OutboxRelay {
  private readonly contracts = new Map<string, EventContract<unknown>>(allContracts.map((c) => [c.topic, c]));
  private timer?: NodeJS.Timeout;
  private running = false;
  private draining?: Promise<void>;
  private wakeRequested = false;
  private otpDraining?: Promise<void>;
  private otpWakeRequested = false;
  onPublished?: (count: number, oldestCreatedAt: Date) => void;
  /** Runs after Kafka acknowledged a batch and before its rows are deleted (the crash test kills the process here). */
  afterPublish?: (rows: number) => void;

  constructor(
    private readonly db: DataSource,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly options: { pollMs: number; batch: number; loops?: number },
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
    await Promise.all([this.draining, this.otpDraining]);
  }

  /**
   * Asks for a drain; coalesces while one is running. The OTP loop is woken too: the main loop takes rows
   * in id order, so behind a bulk backlog (a 100,000-recipient campaign) an OTP written now would wait for
   * the whole backlog. Its own loop takes only OTP rows (a partial index keeps that query cheap) and runs
   * beside the main one; SKIP LOCKED keeps the two from taking the same row.
   */
  wake(): void {
    this.wakeOtp();
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

  private wakeOtp(): void {
    if (!this.running) return;
    if (this.otpDraining) {
      this.otpWakeRequested = true;
      return;
    }
    this.otpDraining = (async () => {
      while (this.running && (await this.relayBatch('otp')) >= this.options.batch);
    })()
      .catch((error: unknown) => this.logger.warn({ error: (error as Error).message }, 'outbox relay (otp) failed; will retry'))
      .finally(() => {
        this.otpDraining = undefined;
        if (this.otpWakeRequested) {
          this.otpWakeRequested = false;
          this.wakeOtp();
        }
      });
  }

  /** Publishes batches until the outbox is empty (helper loops join while there is a backlog). */
  async drain(): Promise<void> {
    const helpers: Promise<void>[] = [];
    try {
      for (;;) {
        const published = await this.relayBatch('all');
        if (published < this.options.batch) break;
        while (helpers.length < (this.options.loops ?? 1) - 1) helpers.push(this.helperLoop());
      }
    } finally {
      // Never leave a helper running past its drain: stop() awaits the drain, and a failed helper is
      // logged here while the rows it held are simply unlocked and relayed by the next drain.
      const failed = (await Promise.allSettled(helpers)).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      for (const f of failed) this.logger.warn({ error: (f.reason as Error).message }, 'outbox relay helper failed; will retry');
    }
  }

  private async helperLoop(): Promise<void> {
    for (;;) {
      if (!this.running) return;
      const published = await this.relayBatch('accepted');
      if (published < this.options.batch) return;
    }
  }

  private async relayBatch(rowsOf: 'all' | 'accepted' | 'otp'): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows: OutboxRow[] =
        rowsOf === 'all'
          ? await tx.query('SELECT * FROM outbox WHERE available_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED', [this.options.batch])
          : rowsOf === 'otp'
            ? // Matches the partial index outbox_otp_due (topic literal, id order).
              await tx.query(
                `SELECT * FROM outbox WHERE topic = '${AcceptedOtpV1.topic}' AND available_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
                [this.options.batch],
              )
            : await tx.query(
                'SELECT * FROM outbox WHERE available_at <= now() AND topic = ANY($2::text[]) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
                [this.options.batch, acceptedTopics],
              );
      if (rows.length === 0) return 0;
      const now = new Date();
      const byTopic = new Map<string, { contract: EventContract<unknown>; drafts: EventDraft<unknown>[] }>();
      const add = (contract: EventContract<unknown>, draft: EventDraft<unknown>) => {
        const entry = byTopic.get(contract.topic) ?? { contract, drafts: [] };
        entry.drafts.push(draft);
        byTopic.set(contract.topic, entry);
      };
      const expired: { row: OutboxRow; eventId: string; payload: StatusChangedPayload }[] = [];
      for (const r of rows) {
        // An accepted message goes to its lane's topic, whatever topic the row names: rows written by a
        // release before the lanes split name the single accepted topic, which nothing reads any more.
        const isAccepted = isAcceptedTopic(r.topic);
        const contract = isAccepted ? (acceptedTopicByLane[(r.payload as AcceptedPayload).trafficClass] as EventContract<unknown> | undefined) : this.contracts.get(r.topic);
        if (!contract) throw new Error(`outbox row for unknown topic ${r.topic}`);
        const context = contextFromTraceparent(r.trace_parent);
        if (isAccepted && Date.parse((r.payload as AcceptedPayload).validUntil) <= now.getTime()) {
          // Released too late to be sent (a scheduled message whose validity ended first, or a relay outage
          // longer than the validity): it ends `expired` here and is never handed to the router.
          const accepted = r.payload as AcceptedPayload;
          const payload: StatusChangedPayload = {
            status: 'expired',
            reason: { code: 'validity_elapsed_before_release', message: 'the validity period ended before the message could be sent' },
            trafficClass: accepted.trafficClass,
            sequence: 3,
            changedAt: now.toISOString(),
            reference: accepted.reference,
            callbackUrl: accepted.callbackUrl,
          };
          const eventId = derivedEventId(r.event_id, 'expired');
          expired.push({ row: r, eventId, payload });
          add(StatusChangedV1 as EventContract<unknown>, { eventId, tenantId: r.tenant_id, messageId: r.message_id ?? undefined, payload, context });
          continue;
        }
        add(contract, {
          eventId: r.event_id,
          tenantId: r.tenant_id,
          messageId: r.message_id ?? undefined,
          payload: r.payload,
          occurredAt: r.created_at,
          context,
        });
      }
      await this.publisher.publishMany([...byTopic.values()]);
      this.afterPublish?.(rows.length);
      if (expired.length > 0) await this.markExpired(tx, expired);
      await tx.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      this.onPublished?.(rows.length, rows[0]!.created_at);
      return rows.length;
    });
  }

  /** The read model learns of the expiry in the same transaction (its consumer would dedupe the event anyway). */
  private async markExpired(tx: EntityManager, expired: { row: OutboxRow; eventId: string; payload: StatusChangedPayload }[]): Promise<void> {
    const rows = expired.map((e) => ({ event_id: e.eventId, message_id: e.row.message_id, reason: e.payload.reason, at: e.payload.changedAt }));
    await tx.query(
      `INSERT INTO message_status_history (event_id, message_id, status, reason, sequence, occurred_at)
       SELECT e.event_id, e.message_id, 'expired', e.reason, 3, e.at FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, message_id uuid, reason jsonb, at timestamptz)
       ON CONFLICT (event_id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
    await tx.query(
      `UPDATE messages m SET status = 'expired', status_rank = 10, status_reason = e.reason, updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS e(message_id uuid, reason jsonb) WHERE m.id = e.message_id AND m.status_rank < 10`,
      [JSON.stringify(rows)],
    );
  }
}

/** Every topic an accepted row may name (each lane's, and the one of releases before the lanes split). */
const acceptedTopics = [...acceptedContracts.map((c) => c.topic), LEGACY_ACCEPTED_TOPIC];

/** A stable event id derived from another, so a republished derived event keeps its id (consumers dedupe). */
export function derivedEventId(eventId: string, purpose: string): string {
  const h = createHash('sha256').update(`${eventId}:${purpose}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
