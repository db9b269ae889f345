import type { DataSource } from 'typeorm';
import type { AcceptedPayload, EventEnvelope } from '@sms/contracts';

export interface HeldMessage {
  envelope: EventEnvelope<AcceptedPayload>;
  traceParent: string | null;
  releaseAt: Date;
}

export class HeldMessagesRepository {
  constructor(private readonly db: DataSource) {}

  /** Holds the messages not held or routed before; returns the ids that were new. */
  async hold(rows: HeldMessage[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const result: { message_id: string }[] = await this.db.query(
      `INSERT INTO held_messages (message_id, tenant_id, envelope, trace_parent, release_at)
       SELECT m.message_id, m.tenant_id, m.envelope, m.trace_parent, m.release_at
       FROM jsonb_to_recordset($1::jsonb) AS m(message_id uuid, tenant_id text, envelope jsonb, trace_parent text, release_at timestamptz)
       WHERE NOT EXISTS (SELECT 1 FROM routed_messages r WHERE r.message_id = m.message_id)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING message_id`,
      [
        JSON.stringify(
          rows.map((r) => ({
            message_id: r.envelope.messageId,
            tenant_id: r.envelope.tenantId,
            envelope: r.envelope,
            trace_parent: r.traceParent,
            release_at: r.releaseAt.toISOString(),
          })),
        ),
      ],
    );
    return new Set(result.map((r) => r.message_id));
  }

  async due(limit: number): Promise<HeldMessage[]> {
    const rows: { envelope: EventEnvelope<AcceptedPayload>; trace_parent: string | null; release_at: Date }[] = await this.db.query(
      'SELECT envelope, trace_parent, release_at FROM held_messages WHERE release_at <= now() ORDER BY release_at LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({ envelope: r.envelope, traceParent: r.trace_parent, releaseAt: r.release_at }));
  }

  async remove(messageIds: string[]): Promise<void> {
    if (messageIds.length > 0) await this.db.query('DELETE FROM held_messages WHERE message_id = ANY($1::uuid[])', [messageIds]);
  }
}
