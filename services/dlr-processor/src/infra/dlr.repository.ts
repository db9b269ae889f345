import type { DataSource } from 'typeorm';
import type { TrafficClass } from '@sms/contracts';
import type { DeliveryStatus, PartState, PartStatus } from '../domain/status-machine.js';

/** What the repository needs from TypeORM: raw SQL, inside a transaction or not. */
export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

export interface CarrierKey {
  carrierId: string;
  carrierMessageId: string;
}

export interface NewMessage {
  messageId: string;
  tenantId: string;
  carrierId: string;
  trafficClass: TrafficClass;
  totalParts: number;
  callbackUrl?: string;
  reference?: string;
  traceParent?: string;
  validUntil: string;
  acceptedAt: string;
  submittedAt: string;
}

export interface NewPart extends CarrierKey {
  messageId: string;
  partIndex: number;
  submittedAt: string;
}

export interface PartRef extends CarrierKey {
  messageId: string;
  partIndex: number;
}

export interface StoredMessage {
  messageId: string;
  tenantId: string;
  carrierId: string;
  trafficClass: TrafficClass;
  totalParts: number;
  status: DeliveryStatus;
  callbackUrl?: string;
  reference?: string;
  traceParent?: string;
  acceptedAt: Date;
  parts: PartState[];
}

/** A receipt as stored while its part is unknown (receipt text already redacted). */
export interface PendingReceipt extends CarrierKey {
  eventId: string;
  messageState?: number;
  networkErrorCode?: string;
  receiptText: string;
  receivedAt: string;
  /** Trace context of the receipt's consumer span, for the span link when it is finally applied. */
  traceParent?: string;
}

export interface HeldReceipt extends PendingReceipt {
  heldAt: Date;
  messageId: string;
  partIndex: number;
}

export interface PartUpdate {
  messageId: string;
  partIndex: number;
  status: PartStatus;
  rawStat?: string;
  rawErr?: string;
}

export interface FinalUpdate {
  messageId: string;
  status: DeliveryStatus;
  reasonCode: string;
  reasonMessage?: string;
  carrierCode?: string;
  sequence: number;
  finalAt: string;
}

export interface HistoryRow extends PartRef {
  eventId: string;
  messageState?: number;
  networkErrorCode?: string;
  rawStat?: string;
  rawErr?: string;
  receiptText: string;
  receiptStatus?: string;
  applied: boolean;
  outcome: string;
  messageStatus: DeliveryStatus;
  receivedAt: string;
  heldAt?: Date;
}

export interface ExpiredMessage {
  messageId: string;
  tenantId: string;
  carrierId: string;
  trafficClass: TrafficClass;
  totalParts: number;
  callbackUrl?: string;
  reference?: string;
  traceParent?: string;
  acceptedAt: Date;
  finalAt: Date;
  delivered: number;
  failed: number;
}

/**
 * The sweeper's statement ($1 grace ms, $2 batch size, $3 reason). The `due` scan is served by the partial
 * index messages_open_by_validity (valid_until WHERE final_at IS NULL): it reads only open messages in
 * validity order and stops at the batch size, however many final messages the table holds. EXPLAIN on
 * 20,000 final rows plus the suite's few open ones, after ANALYZE (asserted by dlr-processor.int-spec, which prints the plan):
 *   CTE due -> Limit -> LockRows -> Index Scan using messages_open_by_validity on messages
 *                                     Index Cond: (valid_until < (now() - '00:00:00'::interval))
 *   CTE expired -> Update on messages m -> Nested Loop -> Index Scan using messages_pkey
 *   SubPlans (part counts) -> Bitmap Index Scan on message_parts_pkey, twice per expired message.
 */
export const EXPIRE_OVERDUE_SQL = `WITH due AS (
         SELECT message_id FROM messages
         WHERE final_at IS NULL AND valid_until < now() - make_interval(secs => $1::double precision / 1000)
         ORDER BY valid_until
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       ), expired AS (
         UPDATE messages m
         SET status = 'expired', reason_code = 'expired_no_receipt', reason_message = $3, sequence = 3, final_at = now()
         FROM due WHERE m.message_id = due.message_id
         RETURNING m.message_id, m.tenant_id, m.carrier_id, m.traffic_class, m.total_parts, m.status, m.callback_url,
                   m.reference, m.trace_parent, m.accepted_at, m.final_at
       )
       SELECT e.*,
              (SELECT count(*) FROM message_parts p WHERE p.message_id = e.message_id AND p.status = 'delivered')::int AS delivered,
              (SELECT count(*) FROM message_parts p WHERE p.message_id = e.message_id
                 AND p.status IN ('undelivered', 'expired', 'rejected'))::int AS failed
       FROM expired e`;

/** Namespace of this service's advisory locks (the two-int form keeps it apart from other lock users). */
const CARRIER_KEY_LOCK_CLASS = 0x444c5250; // "DLRP"

const optional = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

/**
 * The dlr-processor's tables (schema `dlr_processor`). Every method is one statement over a whole batch
 * (jsonb_to_recordset / ANY), so a consumed batch costs a fixed number of round trips.
 */
export class DlrRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Serialises work on the same carrier ids: without it a receipt that finds no part and the submitted event
   * that creates the part can commit past each other and leave the receipt waiting forever. Locks are taken
   * in hash order so two batches never wait on each other in a cycle.
   */
  async lockCarrierKeys(keys: CarrierKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.query(
      `SELECT pg_advisory_xact_lock($1::int, h)
       FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k) AS keys
       ORDER BY h`,
      [CARRIER_KEY_LOCK_CLASS, keys.map((k) => `${k.carrierId}:${k.carrierMessageId}`)],
    );
  }

  /**
   * Inserts the messages not seen before (the others are redeliveries) and the parts of those only, in one
   * statement (one round trip). Returns the new message ids and the parts inserted: a part whose carrier id
   * already belongs to another message (a carrier recycling ids) is not.
   */
  async insertMessagesWithParts(messages: NewMessage[], parts: NewPart[]): Promise<{ fresh: Set<string>; inserted: PartRef[] }> {
    if (messages.length === 0) return { fresh: new Set(), inserted: [] };
    const rows = await this.db.query<(Partial<PartRow> & { new_message_id: string | null })[]>(
      `WITH new_messages AS (
         INSERT INTO messages (message_id, tenant_id, carrier_id, traffic_class, total_parts, status, sequence,
                               callback_url, reference, trace_parent, valid_until, accepted_at, submitted_at)
         SELECT m.message_id, m.tenant_id, m.carrier_id, m.traffic_class, m.total_parts, 'submitted', 2,
                m.callback_url, m.reference, m.trace_parent, m.valid_until, m.accepted_at, m.submitted_at
         FROM jsonb_to_recordset($1::jsonb) AS m(message_id uuid, tenant_id text, carrier_id text, traffic_class text,
              total_parts int, callback_url text, reference text, trace_parent text, valid_until timestamptz,
              accepted_at timestamptz, submitted_at timestamptz)
         ON CONFLICT (message_id) DO NOTHING
         RETURNING message_id
       ), new_parts AS (
         INSERT INTO message_parts (message_id, part_index, carrier_id, carrier_message_id, submitted_at)
         SELECT p.message_id, p.part_index, p.carrier_id, p.carrier_message_id, p.submitted_at
         FROM jsonb_to_recordset($2::jsonb) AS p(message_id uuid, part_index int, carrier_id text,
              carrier_message_id text, submitted_at timestamptz)
         WHERE p.message_id IN (SELECT message_id FROM new_messages)
         ON CONFLICT DO NOTHING
         RETURNING message_id, part_index, carrier_id, carrier_message_id
       )
       SELECT NULL::uuid AS message_id, NULL::int AS part_index, NULL AS carrier_id, NULL AS carrier_message_id,
              message_id AS new_message_id FROM new_messages
       UNION ALL
       SELECT message_id, part_index, carrier_id, carrier_message_id, NULL FROM new_parts`,
      [
        JSON.stringify(
          messages.map((r) => ({
            message_id: r.messageId,
            tenant_id: r.tenantId,
            carrier_id: r.carrierId,
            traffic_class: r.trafficClass,
            total_parts: r.totalParts,
            callback_url: r.callbackUrl ?? null,
            reference: r.reference ?? null,
            trace_parent: r.traceParent ?? null,
            valid_until: r.validUntil,
            accepted_at: r.acceptedAt,
            submitted_at: r.submittedAt,
          })),
        ),
        JSON.stringify(
          parts.map((r) => ({
            message_id: r.messageId,
            part_index: r.partIndex,
            carrier_id: r.carrierId,
            carrier_message_id: r.carrierMessageId,
            submitted_at: r.submittedAt,
          })),
        ),
      ],
    );
    const fresh = new Set<string>();
    const inserted: PartRef[] = [];
    for (const r of rows) {
      if (r.new_message_id) fresh.add(r.new_message_id);
      else inserted.push(toPartRef(r as PartRow));
    }
    return { fresh, inserted };
  }

  /**
   * One round trip for the receipt path's hot query: the parts these
   * carrier ids belong to, and which of these receipt events were recorded already (redelivered batch).
   */
  async correlate(keys: CarrierKey[], eventIds: string[]): Promise<{ parts: PartRef[]; seen: Set<string> }> {
    if (keys.length === 0 && eventIds.length === 0) return { parts: [], seen: new Set() };
    const rows = await this.db.query<(Partial<PartRow> & { seen_event_id: string | null })[]>(
      `SELECT p.message_id, p.part_index, p.carrier_id, p.carrier_message_id, NULL::uuid AS seen_event_id
       FROM message_parts p
       JOIN jsonb_to_recordset($1::jsonb) AS k(carrier_id text, carrier_message_id text)
         ON p.carrier_id = k.carrier_id AND p.carrier_message_id = k.carrier_message_id
       UNION ALL
       SELECT NULL, NULL, NULL, NULL, event_id FROM receipt_history WHERE event_id = ANY($2::uuid[])
       UNION ALL
       SELECT NULL, NULL, NULL, NULL, event_id FROM pending_receipts WHERE event_id = ANY($2::uuid[])`,
      [JSON.stringify(keys.map((k) => ({ carrier_id: k.carrierId, carrier_message_id: k.carrierMessageId }))), eventIds],
    );
    const parts: PartRef[] = [];
    const seen = new Set<string>();
    for (const r of rows) {
      if (r.seen_event_id) seen.add(r.seen_event_id);
      else parts.push(toPartRef(r as PartRow));
    }
    return { parts, seen };
  }

  /** Loads messages with their parts, locking the message rows (in id order, so batches cannot deadlock). */
  async loadMessagesForUpdate(messageIds: string[]): Promise<Map<string, StoredMessage>> {
    const result = new Map<string, StoredMessage>();
    if (messageIds.length === 0) return result;
    // Two statements on purpose: under READ COMMITTED a statement reads with the snapshot it started with,
    // even after waiting for a row lock. Parts read in the locking statement itself (one round trip) miss
    // a part another transaction updated while this one waited on the message lock, and then neither
    // transaction sees every part final: a multipart message that never ends. Reading the parts after the
    // lock is held takes a fresh snapshot that includes the lock holder's commit.
    const locked = await this.db.query<MessageRow[]>(
      `SELECT message_id, tenant_id, carrier_id, traffic_class, total_parts, status, callback_url, reference,
              trace_parent, accepted_at
       FROM messages WHERE message_id = ANY($1::uuid[])
       ORDER BY message_id
       FOR UPDATE`,
      [messageIds],
    );
    const partRows = await this.db.query<{ message_id: string; part_index: number; status: string; raw_stat: string | null; raw_err: string | null }[]>(
      `SELECT message_id, part_index, status, raw_stat, raw_err
       FROM message_parts WHERE message_id = ANY($1::uuid[])
       ORDER BY message_id, part_index`,
      [messageIds],
    );
    const partsOf = new Map<string, { i: number; s: string; st: string | null; e: string | null }[]>();
    for (const p of partRows) {
      const list = partsOf.get(p.message_id) ?? [];
      list.push({ i: p.part_index, s: p.status, st: p.raw_stat, e: p.raw_err });
      partsOf.set(p.message_id, list);
    }
    const messages = locked.map((m) => ({ ...m, parts: partsOf.get(m.message_id) ?? null }));
    for (const m of messages) {
      result.set(m.message_id, {
        messageId: m.message_id,
        tenantId: m.tenant_id,
        carrierId: m.carrier_id,
        trafficClass: m.traffic_class,
        totalParts: m.total_parts,
        status: m.status as DeliveryStatus,
        callbackUrl: optional(m.callback_url),
        reference: optional(m.reference),
        traceParent: optional(m.trace_parent),
        acceptedAt: m.accepted_at,
        parts: (m.parts ?? []).map((p) => ({ index: p.i, status: p.s as PartStatus, stat: optional(p.st), err: optional(p.e) })),
      });
    }
    return result;
  }

  async holdReceipts(rows: PendingReceipt[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `INSERT INTO pending_receipts (event_id, carrier_id, carrier_message_id, message_state, network_error_code,
                                     receipt_text, received_at, trace_parent)
       SELECT r.event_id, r.carrier_id, r.carrier_message_id, r.message_state, r.network_error_code,
              r.receipt_text, r.received_at, r.trace_parent
       FROM jsonb_to_recordset($1::jsonb) AS r(event_id uuid, carrier_id text, carrier_message_id text,
            message_state int, network_error_code text, receipt_text text, received_at timestamptz, trace_parent text)
       ON CONFLICT (event_id) DO NOTHING`,
      [
        JSON.stringify(
          rows.map((r) => ({
            event_id: r.eventId,
            carrier_id: r.carrierId,
            carrier_message_id: r.carrierMessageId,
            message_state: r.messageState ?? null,
            network_error_code: r.networkErrorCode ?? null,
            receipt_text: r.receiptText,
            received_at: r.receivedAt,
            trace_parent: r.traceParent ?? null,
          })),
        ),
      ],
    );
  }

  /** Held receipts (parked or not) whose part now belongs to one of these messages, oldest first. */
  async heldReceiptsFor(messageIds: string[]): Promise<HeldReceipt[]> {
    if (messageIds.length === 0) return [];
    const rows = await this.db.query<
      (PartRow & {
        event_id: string;
        message_state: number | null;
        network_error_code: string | null;
        receipt_text: string;
        received_at: Date;
        held_at: Date;
        trace_parent: string | null;
      })[]
    >(
      `SELECT r.event_id, r.carrier_id, r.carrier_message_id, r.message_state, r.network_error_code, r.receipt_text,
              r.received_at, r.held_at, r.trace_parent, p.message_id, p.part_index
       FROM pending_receipts r
       JOIN message_parts p ON p.carrier_id = r.carrier_id AND p.carrier_message_id = r.carrier_message_id
       WHERE p.message_id = ANY($1::uuid[])
       ORDER BY r.received_at, r.held_at, r.event_id`,
      [messageIds],
    );
    return rows.map((r) => ({
      ...toPartRef(r),
      eventId: r.event_id,
      messageState: optional(r.message_state),
      networkErrorCode: optional(r.network_error_code),
      receiptText: r.receipt_text,
      receivedAt: r.received_at.toISOString(),
      heldAt: r.held_at,
      traceParent: optional(r.trace_parent),
    }));
  }

  /**
   * Writes what applying receipts produced, parts, final statuses and history, in one statement (three
   * data-modifying CTEs on three tables): one round trip per batch instead of three. The `final_at IS NULL`
   * guard keeps a final status final even against a bug upstream.
   */
  async writeApplied(parts: PartUpdate[], finals: FinalUpdate[], history: HistoryRow[], releaseHeld: string[] = []): Promise<void> {
    if (parts.length === 0 && finals.length === 0 && history.length === 0 && releaseHeld.length === 0) return;
    await this.db.query(
      `WITH part_updates AS (
         UPDATE message_parts p
         SET status = u.status, raw_stat = u.raw_stat, raw_err = u.raw_err, updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS u(message_id uuid, part_index int, status text, raw_stat text, raw_err text)
         WHERE p.message_id = u.message_id AND p.part_index = u.part_index
         RETURNING 1
       ), final_updates AS (
         UPDATE messages m
         SET status = u.status, reason_code = u.reason_code, reason_message = u.reason_message,
             carrier_code = u.carrier_code, sequence = u.sequence, final_at = u.final_at
         FROM jsonb_to_recordset($2::jsonb) AS u(message_id uuid, status text, reason_code text, reason_message text,
              carrier_code text, sequence int, final_at timestamptz)
         WHERE m.message_id = u.message_id AND m.final_at IS NULL
         RETURNING 1
       ), history AS (
         INSERT INTO receipt_history (event_id, message_id, part_index, carrier_id, carrier_message_id, message_state,
                                      network_error_code, raw_stat, raw_err, receipt_text, receipt_status, applied,
                                      outcome, message_status, received_at, held_at)
         SELECT h.event_id, h.message_id, h.part_index, h.carrier_id, h.carrier_message_id, h.message_state,
                h.network_error_code, h.raw_stat, h.raw_err, h.receipt_text, h.receipt_status, h.applied,
                h.outcome, h.message_status, h.received_at, h.held_at
         FROM jsonb_to_recordset($3::jsonb) AS h(event_id uuid, message_id uuid, part_index int, carrier_id text,
              carrier_message_id text, message_state int, network_error_code text, raw_stat text, raw_err text,
              receipt_text text, receipt_status text, applied boolean, outcome text, message_status text,
              received_at timestamptz, held_at timestamptz)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING 1
       ), released AS (
         -- Held receipts applied now: moved into the history above, in the same statement.
         DELETE FROM pending_receipts WHERE event_id = ANY($4::uuid[])
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM part_updates) AS parts, (SELECT count(*) FROM final_updates) AS finals,
              (SELECT count(*) FROM history) AS history, (SELECT count(*) FROM released) AS released`,
      [
        JSON.stringify(
          parts.map((r) => ({
            message_id: r.messageId,
            part_index: r.partIndex,
            status: r.status,
            raw_stat: r.rawStat ?? null,
            raw_err: r.rawErr ?? null,
          })),
        ),
        JSON.stringify(
          finals.map((r) => ({
            message_id: r.messageId,
            status: r.status,
            reason_code: r.reasonCode,
            reason_message: r.reasonMessage ?? null,
            carrier_code: r.carrierCode ?? null,
            sequence: r.sequence,
            final_at: r.finalAt,
          })),
        ),
        JSON.stringify(
          history.map((r) => ({
            event_id: r.eventId,
            message_id: r.messageId,
            part_index: r.partIndex,
            carrier_id: r.carrierId,
            carrier_message_id: r.carrierMessageId,
            message_state: r.messageState ?? null,
            network_error_code: r.networkErrorCode ?? null,
            raw_stat: r.rawStat ?? null,
            raw_err: r.rawErr ?? null,
            receipt_text: r.receiptText,
            receipt_status: r.receiptStatus ?? null,
            applied: r.applied,
            outcome: r.outcome,
            message_status: r.messageStatus,
            received_at: r.receivedAt,
            held_at: r.heldAt?.toISOString() ?? null,
          })),
        ),
        releaseHeld,
      ],
    );
  }

  /**
   * Expires, in one UPDATE, up to `limit` messages still without a final status `graceMs` after their
   * validity. Rows another transaction holds (a receipt being applied right now) are skipped, not waited on:
   * the next round sees them if they are still open.
   */
  async expireOverdue(graceMs: number, limit: number, reasonMessage: string): Promise<ExpiredMessage[]> {
    const rows = await this.db.query<(MessageRow & { final_at: Date; delivered: number; failed: number })[]>(
      EXPIRE_OVERDUE_SQL,
      [graceMs, limit, reasonMessage],
    );
    return rows.map((r) => ({
      messageId: r.message_id,
      tenantId: r.tenant_id,
      carrierId: r.carrier_id,
      trafficClass: r.traffic_class,
      totalParts: r.total_parts,
      callbackUrl: optional(r.callback_url),
      reference: optional(r.reference),
      traceParent: optional(r.trace_parent),
      acceptedAt: r.accepted_at,
      finalAt: r.final_at,
      delivered: r.delivered,
      failed: r.failed,
    }));
  }

  /** Flags held receipts older than `ttlMs`; returns how many were parked now. */
  async parkStaleReceipts(ttlMs: number): Promise<number> {
    const rows = await this.db.query<{ parked: number }[]>(
      `WITH parked AS (
         UPDATE pending_receipts SET parked = true, parked_at = now()
         WHERE NOT parked AND held_at < now() - make_interval(secs => $1::double precision / 1000)
         RETURNING 1
       )
       SELECT count(*)::int AS parked FROM parked`,
      [ttlMs],
    );
    return rows[0]?.parked ?? 0;
  }

  async pendingCounts(): Promise<{ held: number; parked: number }> {
    const rows = await this.db.query<{ held: number; parked: number }[]>(
      `SELECT count(*) FILTER (WHERE NOT parked)::int AS held, count(*) FILTER (WHERE parked)::int AS parked
       FROM pending_receipts`,
    );
    return rows[0] ?? { held: 0, parked: 0 };
  }
}

interface PartRow {
  message_id: string;
  part_index: number;
  carrier_id: string;
  carrier_message_id: string;
}

interface MessageRow {
  message_id: string;
  tenant_id: string;
  carrier_id: string;
  traffic_class: TrafficClass;
  total_parts: number;
  status: string;
  callback_url: string | null;
  reference: string | null;
  trace_parent: string | null;
  accepted_at: Date;
}

function toPartRef(r: PartRow): PartRef {
  return {
    messageId: r.message_id,
    partIndex: r.part_index,
    carrierId: r.carrier_id,
    carrierMessageId: r.carrier_message_id,
  };
}

const retryableCodes = new Set(['40P01', '40001']); // deadlock detected, serialization failure

/**
 * Opens transactions. A deadlock or serialization failure is retried here, where the whole unit of work
 * can be replayed, rather than surfacing as a handler failure that could end in the dead-letter topic.
 */
export class DlrStore {
  constructor(private readonly dataSource: DataSource) {}

  async transaction<T>(work: (repository: DlrRepository) => Promise<T>, attempts = 3): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction((manager) => work(new DlrRepository(manager)));
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt >= attempts || typeof code !== 'string' || !retryableCodes.has(code)) throw error;
      }
    }
  }

  /** Outside any transaction (metrics). */
  get repository(): DlrRepository {
    return new DlrRepository(this.dataSource);
  }
}
