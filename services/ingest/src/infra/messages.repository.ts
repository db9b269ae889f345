import type { DataSource, EntityManager } from 'typeorm';
import { isFinalStatus, statusRank, type AcceptedPayload, type MessageStatus, type Reason } from '@sms/contracts';

/**
 * What accepted messages have in common: everything but their ids, number and source event. The messages
 * of a batch with one shared body share one template, so an insert carries the body (and the rest) once,
 * not once per recipient; a message accepted alone has its own.
 */
export interface AcceptedTemplate {
  tenantId: string;
  /** Lane topic of the accepted event. */
  topic: string;
  /** The accepted event's payload, except each message's own `to`. */
  payload: Omit<AcceptedPayload, 'to'>;
  metadata?: Record<string, string>;
  sendAt?: string;
  source: 'api' | 'kafka';
  batchId?: string;
  traceParent?: string;
}

export interface NewMessage {
  id: string;
  /** Id of its accepted event, and of the first entry of its status history. */
  eventId: string;
  to: string;
  sourceEventId?: string;
  template: AcceptedTemplate;
}

/** What an Idempotency-Key stands for: one message, or a batch and the response its first request got. */
export type IdempotencyRecord =
  | { requestHash: string; kind: 'message'; messageId: string }
  | { requestHash: string; kind: 'batch'; batchId: string; response: unknown };

export interface MessageSummary {
  id: string;
  status: MessageStatus;
  statusReason: Reason | null;
  to: string;
  from: string;
  trafficClass: string;
  encoding: string;
  segments: number;
  reference: string | null;
  batchId: string | null;
  sandbox: boolean;
  callbackUrl: string | null;
  sendAt: string | null;
  validUntil: string;
  createdAt: string;
  updatedAt: string;
}

export interface MessageFilter {
  status?: MessageStatus;
  createdFrom?: string;
  createdTo?: string;
  reference?: string;
  batchId?: string;
  limit: number;
  /** Position after which the page starts (newest first). */
  after?: { createdAt: string; id: string };
}

export interface BatchView {
  id: string;
  recipients: number;
  accepted: number;
  rejected: number;
  counts: Record<string, number>;
  final: number;
  progress: number;
  createdAt: string;
}

/** How many of a message's parts the carrier took and how many reached a final receipt. */
export interface PartCounts {
  total: number;
  delivered: number;
  failed: number;
}

export interface MessageView extends MessageSummary {
  /** The counts of the latest status event that carried them; before any, every part is still pending. */
  parts: PartCounts;
  history: { status: MessageStatus; reason: Reason | null; carrierId: string | null; parts: PartCounts | null; occurredAt: string }[];
}

export interface StatusUpdate {
  eventId: string;
  messageId: string;
  tenantId: string;
  status: MessageStatus;
  reason?: Reason;
  carrierId?: string;
  parts?: PartCounts;
  sequence: number;
  occurredAt: string;
}

type MessageRow = {
  id: string;
  status: MessageStatus;
  status_reason: Reason | null;
  recipient: string;
  sender: string;
  traffic_class: string;
  encoding: string;
  segments: number;
  reference: string | null;
  batch_id: string | null;
  sandbox: boolean;
  send_at: Date | null;
  callback_url: string | null;
  valid_until: Date;
  created_at: Date;
  updated_at: Date;
};

/**
 * Ingest's tables. Every read takes the tenant id: a tenant can never load another tenant's message
 * (the API answers 404, not 403, so ids do not leak either).
 */
export class MessagesRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /**
   * Accepted messages, the first entry of each one's status history, their outbox rows and (for a bulk send)
   * the batch row, in ONE statement: data-modifying CTEs commit together or not at all, so this is a
   * transaction of its own (one round trip and one WAL flush instead of BEGIN, three or four statements
   * and COMMIT). On a loaded machine each round trip waits for both processes to be scheduled, which made
   * the five-round-trip transaction the latency of every accepted message. Pass `tx` to make it part of a
   * larger transaction (an idempotency key's claim).
   *
   * The shared values travel once per template (a small JSON document); each message is one element of a
   * few arrays (id, event id, number, template). PostgreSQL spent about half its CPU for a 10,000-recipient
   * batch parsing the JSON document of 10,000 full rows and 10,000 outbox payloads this replaced, and
   * node as much building it. The outbox payload is the template's payload with the message's `to` added.
   */
  async insertAccepted(
    tx: EntityManager | undefined,
    accepted: { messages: NewMessage[]; batch?: { id: string; tenantId: string; recipients: number; accepted: number; rejected: number } },
  ): Promise<void> {
    const { messages, batch } = accepted;
    if (messages.length === 0 && !batch) return;
    const templates = new Map<AcceptedTemplate, number>();
    const ids: string[] = new Array(messages.length);
    const eventIds: string[] = new Array(messages.length);
    const recipients: string[] = new Array(messages.length);
    const templateOf: number[] = new Array(messages.length);
    const sourceEventIds: (string | null)[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      let t = templates.get(m.template);
      if (t === undefined) templates.set(m.template, (t = templates.size));
      ids[i] = m.id;
      eventIds[i] = m.eventId;
      recipients[i] = m.to;
      templateOf[i] = t;
      sourceEventIds[i] = m.sourceEventId ?? null;
    }
    const params: unknown[] = [
      JSON.stringify(
        [...templates.keys()].map((t, i) => ({
          i,
          tenant_id: t.tenantId,
          topic: t.topic,
          payload: t.payload,
          sender: t.payload.from,
          body: t.payload.body,
          traffic_class: t.payload.trafficClass,
          encoding: t.payload.encoding,
          segments: t.payload.segments,
          callback_url: t.payload.callbackUrl ?? null,
          reference: t.payload.reference ?? null,
          metadata: t.metadata ?? null,
          valid_until: t.payload.validUntil,
          send_at: t.sendAt ?? null,
          source: t.source,
          accepted_at: t.payload.acceptedAt,
          batch_id: t.batchId ?? null,
          sandbox: t.payload.sandbox,
          trace_parent: t.traceParent ?? null,
        })),
      ),
      // Ids are our own UUIDs: the array literal needs no quoting (pg would escape each element).
      `{${ids.join(',')}}`,
      `{${eventIds.join(',')}}`,
      recipients,
      templateOf,
      sourceEventIds,
    ];
    let batchInsert = '';
    if (batch) {
      params.push(batch.id, batch.tenantId, batch.recipients, batch.accepted, batch.rejected);
      batchInsert = 'b AS (INSERT INTO batches (id, tenant_id, recipients, accepted, rejected) VALUES ($7, $8, $9, $10, $11)),';
    }
    // The history starts with the acceptance itself (same event id as the accepted event).
    await (tx ?? this.db).query(
      `WITH ${batchInsert}
       t AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(i int, tenant_id text, topic text, payload jsonb, sender text, body text,
           traffic_class text, encoding text, segments int, callback_url text, reference text, metadata jsonb, valid_until timestamptz,
           send_at timestamptz, source text, accepted_at timestamptz, batch_id uuid, sandbox boolean, trace_parent text)
       ),
       r AS (
         SELECT r.id, r.event_id, r.recipient, r.source_event_id, t.*
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::text[]) AS r(id, event_id, recipient, template, source_event_id)
         JOIN t ON t.i = r.template
       ),
       m AS (
         INSERT INTO messages (id, tenant_id, recipient, sender, body, traffic_class, encoding, segments, callback_url,
           reference, metadata, status, status_rank, valid_until, send_at, source, source_event_id, created_at, updated_at,
           batch_id, sandbox)
         SELECT r.id, r.tenant_id, r.recipient, r.sender, r.body, r.traffic_class, r.encoding, r.segments, r.callback_url,
           r.reference, r.metadata, CASE WHEN r.send_at IS NOT NULL THEN 'scheduled' ELSE 'accepted' END,
           CASE WHEN r.send_at IS NOT NULL THEN 1 ELSE 0 END, r.valid_until, r.send_at, r.source, r.source_event_id,
           r.accepted_at, r.accepted_at, r.batch_id, r.sandbox
         FROM r
       ),
       h AS (
         INSERT INTO message_status_history (event_id, message_id, status, reason, sequence, occurred_at)
         SELECT r.event_id, r.id, CASE WHEN r.send_at IS NOT NULL THEN 'scheduled' ELSE 'accepted' END, NULL, 0, now() FROM r
       )
       INSERT INTO outbox (topic, event_id, tenant_id, message_id, payload, trace_parent, available_at)
       SELECT r.topic, r.event_id, r.tenant_id, r.id, r.payload || jsonb_build_object('to', r.recipient), r.trace_parent,
         coalesce(r.send_at, now())
       FROM r`,
      params,
    );
  }

  /** Ids of messages already created from these Kafka event ids (dedupe of redelivered send-requests). */
  async existingSourceEvents(tenantEventPairs: { tenantId: string; eventId: string }[]): Promise<Set<string>> {
    if (tenantEventPairs.length === 0) return new Set();
    const rows: { key: string }[] = await this.db.query(
      `SELECT m.tenant_id || '/' || m.source_event_id AS key FROM messages m
       JOIN jsonb_to_recordset($1::jsonb) AS p(tenant_id text, event_id text)
         ON m.tenant_id = p.tenant_id AND m.source_event_id = p.event_id`,
      [JSON.stringify(tenantEventPairs.map((p) => ({ tenant_id: p.tenantId, event_id: p.eventId })))],
    );
    return new Set(rows.map((r) => r.key));
  }

  async findIdempotencyKey(tenantId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const rows: { request_hash: string; message_id: string | null; batch_id: string | null; response: unknown }[] = await this.db.query(
      `SELECT request_hash, message_id, batch_id, response FROM idempotency_keys
       WHERE tenant_id = $1 AND key = $2 AND created_at > now() - interval '24 hours'`,
      [tenantId, key],
    );
    const r = rows[0];
    if (!r) return undefined;
    return r.batch_id
      ? { requestHash: r.request_hash, kind: 'batch', batchId: r.batch_id, response: r.response }
      : { requestHash: r.request_hash, kind: 'message', messageId: r.message_id! };
  }

  /**
   * Claims a key inside the transaction that creates what the key stands for (a message, or a batch with
   * the response to replay); false when another request holds it. A concurrent claim of the same key waits
   * on the primary key until the first transaction ends, so exactly one of them creates anything.
   */
  async claimIdempotencyKey(
    tx: EntityManager,
    tenantId: string,
    key: string,
    requestHash: string,
    target: { messageId: string } | { batchId: string; response: unknown },
  ): Promise<boolean> {
    const messageId = 'messageId' in target ? target.messageId : null;
    const batchId = 'batchId' in target ? target.batchId : null;
    const response = 'batchId' in target ? JSON.stringify(target.response) : null;
    // An expired key (older than 24 h) is replaced; a live one makes the insert a no-op.
    const rows: unknown[] = await tx.query(
      `INSERT INTO idempotency_keys (tenant_id, key, request_hash, message_id, batch_id, response) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
       ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, message_id = EXCLUDED.message_id,
         batch_id = EXCLUDED.batch_id, response = EXCLUDED.response, created_at = now()
         WHERE idempotency_keys.created_at <= now() - interval '24 hours'
       RETURNING tenant_id`,
      [tenantId, key, requestHash, messageId, batchId, response],
    );
    return rows.length > 0;
  }

  /**
   * Cancels a scheduled message whose accepted event has not been released yet: deleting its outbox row
   * and marking it canceled happen in one transaction, so a message is either released or canceled.
   */
  async cancelScheduled(tenantId: string, messageId: string): Promise<'canceled' | 'not_found' | 'too_late'> {
    return this.db.transaction(async (tx) => {
      const found: { status: string }[] = await tx.query('SELECT status FROM messages WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [
        tenantId,
        messageId,
      ]);
      if (!found[0]) return 'not_found';
      const deleted: unknown[] = await tx.query('WITH d AS (DELETE FROM outbox WHERE message_id = $1 RETURNING id) SELECT id FROM d', [
        messageId,
      ]);
      if (found[0].status !== 'scheduled' || deleted.length === 0) return 'too_late';
      await tx.query(
        `UPDATE messages SET status = 'canceled', status_rank = 10, status_reason = '{"code":"canceled_by_sender"}', updated_at = now() WHERE id = $1`,
        [messageId],
      );
      await tx.query(
        `INSERT INTO message_status_history (event_id, message_id, status, reason, sequence, occurred_at)
         VALUES (gen_random_uuid(), $1, 'canceled', '{"code":"canceled_by_sender"}', 1, now())`,
        [messageId],
      );
      return 'canceled';
    });
  }

  /**
   * The message and its history in one statement, so from one snapshot: read as two queries, a status
   * event committed between them showed a history entry whose status the message did not have yet.
   */
  async findForTenant(tenantId: string, messageId: string): Promise<MessageView | undefined> {
    type HistoryJson = { status: MessageStatus; reason: Reason | null; carrier_id: string | null; parts: PartCounts | null; occurred_at: string };
    const rows: (MessageRow & { parts: PartCounts | null; history: HistoryJson[] })[] = await this.db.query(
      `SELECT m.*, coalesce(
         (SELECT json_agg(json_build_object('status', h.status, 'reason', h.reason, 'carrier_id', h.carrier_id, 'parts', h.parts, 'occurred_at', h.occurred_at)
            ORDER BY h.occurred_at, h.sequence)
          FROM message_status_history h WHERE h.message_id = m.id), '[]') AS history
       FROM messages m WHERE m.tenant_id = $1 AND m.id = $2`,
      [tenantId, messageId],
    );
    const m = rows[0];
    if (!m) return undefined;
    return {
      ...summaryOf(m),
      parts: m.parts ?? { total: m.segments, delivered: 0, failed: 0 },
      history: m.history.map((h) => ({
        status: h.status,
        reason: h.reason,
        carrierId: h.carrier_id,
        parts: h.parts,
        occurredAt: new Date(h.occurred_at).toISOString(),
      })),
    };
  }

  /** A tenant's messages, newest first, keyset-paginated on (created_at, id). */
  async list(tenantId: string, filter: MessageFilter): Promise<MessageSummary[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.status) add('status = ?', filter.status);
    if (filter.createdFrom) add('created_at >= ?', filter.createdFrom);
    if (filter.createdTo) add('created_at < ?', filter.createdTo);
    if (filter.reference) add('reference = ?', filter.reference);
    if (filter.batchId) add('batch_id = ?', filter.batchId);
    if (filter.after) {
      params.push(filter.after.createdAt, filter.after.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(filter.limit);
    const rows: MessageRow[] = await this.db.query(
      `SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(summaryOf);
  }

  async findBatch(tenantId: string, batchId: string): Promise<BatchView | undefined> {
    const batches: { id: string; recipients: number; accepted: number; rejected: number; created_at: Date }[] = await this.db.query(
      'SELECT id, recipients, accepted, rejected, created_at FROM batches WHERE tenant_id = $1 AND id = $2',
      [tenantId, batchId],
    );
    const b = batches[0];
    if (!b) return undefined;
    const counts: { status: MessageStatus; n: number }[] = await this.db.query(
      'SELECT status, count(*)::int AS n FROM messages WHERE batch_id = $1 AND tenant_id = $2 GROUP BY status',
      [batchId, tenantId],
    );
    const final = counts.filter((c) => isFinalStatus(c.status)).reduce((sum, c) => sum + c.n, 0);
    return {
      id: b.id,
      recipients: b.recipients,
      accepted: b.accepted,
      rejected: b.rejected,
      counts: Object.fromEntries(counts.map((c) => [c.status, c.n])),
      final,
      progress: b.accepted === 0 ? 1 : final / b.accepted,
      createdAt: b.created_at.toISOString(),
    };
  }

  /**
   * Applies status events to the read model. History keeps every event (deduped by event id); the current
   * status only moves forward, so events arriving out of order across producers cannot move it back.
   */
  async applyStatusUpdates(updates: StatusUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const rows = updates.map((u) => ({
      event_id: u.eventId,
      message_id: u.messageId,
      tenant_id: u.tenantId,
      status: u.status,
      rank: statusRank(u.status),
      final: isFinalStatus(u.status),
      reason: u.reason ?? null,
      carrier_id: u.carrierId ?? null,
      parts: u.parts ?? null,
      sequence: u.sequence,
      occurred_at: u.occurredAt,
    }));
    // One statement (its own transaction, one round trip): this consumer shares the pool and the machine
    // with the accepting requests, so it should hold a connection as briefly as it can.
    await this.db.query(
      `WITH u AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS u(event_id uuid, message_id uuid, tenant_id text, status text, rank int,
           reason jsonb, carrier_id text, parts jsonb, sequence int, occurred_at timestamptz)
       ),
       h AS (
         INSERT INTO message_status_history (event_id, message_id, status, reason, carrier_id, parts, sequence, occurred_at)
         SELECT u.event_id, u.message_id, u.status, u.reason, u.carrier_id, u.parts, u.sequence, u.occurred_at FROM u
         ON CONFLICT (event_id) DO NOTHING
       )
       -- Highest-ranked update per message in this batch; ties (two finals) keep the earliest. An event
       -- without part counts (e.g. routed) keeps the counts the message has.
       UPDATE messages m SET status = b.status, status_rank = b.rank, status_reason = b.reason,
         parts = coalesce(b.parts, m.parts), updated_at = now()
       FROM (SELECT DISTINCT ON (message_id) message_id, tenant_id, status, rank, reason, parts FROM u ORDER BY message_id, rank DESC, occurred_at ASC) b
       WHERE m.id = b.message_id AND m.tenant_id = b.tenant_id AND m.status_rank < b.rank`,
      [JSON.stringify(rows)],
    );
  }
}

function summaryOf(m: MessageRow): MessageSummary {
  return {
    id: m.id,
    status: m.status,
    statusReason: m.status_reason,
    to: m.recipient,
    from: m.sender,
    trafficClass: m.traffic_class,
    encoding: m.encoding,
    segments: m.segments,
    reference: m.reference,
    batchId: m.batch_id,
    sandbox: m.sandbox,
    callbackUrl: m.callback_url,
    sendAt: m.send_at ? m.send_at.toISOString() : null,
    validUntil: m.valid_until.toISOString(),
    createdAt: m.created_at.toISOString(),
    updatedAt: m.updated_at.toISOString(),
  };
}
