import type { DataSource, EntityManager } from 'typeorm';
import type { AcceptedPayload } from '@sms/contracts';
import type { AttemptFailure } from '../domain/reasons.js';

export interface RoutedMessage {
  messageId: string;
  tenantId: string;
  routeId: string | null;
  carriers: string[];
  attempt: number;
  accepted: AcceptedPayload;
  traceParent: string | null;
  final: boolean;
  /** Failed attempts so far, oldest first. */
  failures: AttemptFailure[];
}

export interface NewRoutedMessage {
  messageId: string;
  tenantId: string;
  routeId: string | null;
  carriers: string[];
  accepted: AcceptedPayload;
  traceParent: string | null;
  final: boolean;
}

const PAYLOAD_SEPARATOR = '\x1e';

/** The router's own table (schema `router`), written in batches. */
export class RoutedMessagesRepository {
  constructor(private readonly db: DataSource | EntityManager) {}

  /**
   * Runs `work` in one transaction. The router publishes inside it, so a row is committed only with its
   * records published: a row committed before a failed publish made the redelivered event look done (the
   * insert and the attempt guard dedupe on the row), and the message was never dispatched nor failed.
   * A commit that fails after the publish redelivers the event and publishes again: a duplicate record,
   * which carrier-dispatch's submit ledger and the status sequence make harmless, never a loss.
   */
  async inTransaction<T>(work: (tx: RoutedMessagesRepository) => Promise<T>): Promise<T> {
    return this.db.transaction((manager) => work(new RoutedMessagesRepository(manager)));
  }

  /** Inserts the rows not seen before; returns the ids that were new (the others are redeliveries). */
  async insertNew(rows: NewRoutedMessage[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    // One array a column, unnested: cheaper for PostgreSQL than a JSON array through jsonb_to_recordset.
    // Carrier ids are joined with commas, which the gateway file never lets into an id (`[a-z0-9-]`); ''
    // is a message with no carriers. The payloads travel as one text split on U+001E, which
    // JSON.stringify never leaves unescaped: pg quoting every payload as an array element and PostgreSQL
    // parsing that literal back cost ~1 us a row on each side. The payload stays jsonb (text would save
    // ~3 us a row more) because a replica of an earlier release reads that column: during a rolling
    // upgrade it would fail over a message routed by this release with no payload.
    const result: { message_id: string }[] = await this.db.query(
      `INSERT INTO routed_messages (message_id, tenant_id, route_id, carriers, attempt, accepted, trace_parent, final)
       SELECT m.message_id, m.tenant_id, m.route_id, string_to_array(m.carriers, ','), 1, m.accepted, m.trace_parent, m.final
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], string_to_array($5::text, E'\\x1e')::jsonb[], $6::text[], $7::boolean[])
         AS m(message_id, tenant_id, route_id, carriers, accepted, trace_parent, final)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING message_id`,
      [
        rows.map((r) => r.messageId),
        rows.map((r) => r.tenantId),
        rows.map((r) => r.routeId),
        rows.map((r) => r.carriers.join(',')),
        rows.map((r) => JSON.stringify(r.accepted)).join(PAYLOAD_SEPARATOR),
        rows.map((r) => r.traceParent),
        rows.map((r) => r.final),
      ],
    );
    return new Set(result.map((r) => r.message_id));
  }

  async find(messageId: string): Promise<RoutedMessage | undefined> {
    const rows: {
      message_id: string;
      tenant_id: string;
      route_id: string | null;
      carriers: string[];
      attempt: number;
      accepted: AcceptedPayload;
      trace_parent: string | null;
      final: boolean;
      failures: AttemptFailure[];
    }[] = await this.db.query(
      'SELECT message_id, tenant_id, route_id, carriers, attempt, accepted, trace_parent, final, failures FROM routed_messages WHERE message_id = $1',
      [messageId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      messageId: r.message_id,
      tenantId: r.tenant_id,
      routeId: r.route_id,
      carriers: r.carriers,
      attempt: r.attempt,
      accepted: r.accepted,
      traceParent: r.trace_parent,
      final: r.final,
      failures: r.failures,
    };
  }

  /**
   * Records a failed attempt and moves the message to its next one, only if it is still at `fromAttempt`
   * (dedupes redelivered failures). Returns every failure recorded so far, or undefined for a redelivery.
   */
  async advanceAttempt(messageId: string, fromAttempt: number, final: boolean, failure: AttemptFailure): Promise<AttemptFailure[] | undefined> {
    // Wrapped in a CTE: TypeORM returns [rows, count] for a bare UPDATE, rows for a SELECT.
    const result: { failures: AttemptFailure[] }[] = await this.db.query(
      `WITH advanced AS (
         UPDATE routed_messages SET attempt = attempt + 1, final = $3, failures = failures || $4::jsonb
         WHERE message_id = $1 AND attempt = $2 AND NOT final RETURNING failures)
       SELECT failures FROM advanced`,
      [messageId, fromAttempt, final, JSON.stringify([failure])],
    );
    return result[0]?.failures;
  }
}
