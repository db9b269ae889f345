import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DlrProcessorInit1764100000000 implements MigrationInterface {
  name = 'DlrProcessorInit1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per submitted message: what the status events need (so no other service is asked), the
    // trace context a receipt arriving hours later continues, and the validity the sweeper expires on.
    await q.query(`
      CREATE TABLE messages (
        message_id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        carrier_id text NOT NULL,
        traffic_class text NOT NULL,
        total_parts int NOT NULL,
        status text NOT NULL,
        reason_code text,
        reason_message text,
        carrier_code text,
        sequence int NOT NULL,
        callback_url text,
        reference text,
        trace_parent text,
        valid_until timestamptz NOT NULL,
        accepted_at timestamptz NOT NULL,
        submitted_at timestamptz NOT NULL,
        final_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The sweeper only ever looks at messages still waiting for a final receipt.
    await q.query('CREATE INDEX messages_open_by_validity ON messages (valid_until) WHERE final_at IS NULL');

    // Receipts name a part by the carrier's id; the unique key is the correlation lookup.
    await q.query(`
      CREATE TABLE message_parts (
        message_id uuid NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
        part_index int NOT NULL,
        carrier_id text NOT NULL,
        carrier_message_id text NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        raw_stat text,
        raw_err text,
        submitted_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (message_id, part_index),
        CONSTRAINT message_parts_carrier_key UNIQUE (carrier_id, carrier_message_id)
      )`);

    // A receipt can overtake the submitted event (the carrier answers before carrier-dispatch's publish
    // lands): it waits here until its part is known. Parked rows are stale but kept for an operator.
    await q.query(`
      CREATE TABLE pending_receipts (
        event_id uuid PRIMARY KEY,
        carrier_id text NOT NULL,
        carrier_message_id text NOT NULL,
        message_state int,
        network_error_code text,
        receipt_text text NOT NULL,
        received_at timestamptz NOT NULL,
        held_at timestamptz NOT NULL DEFAULT now(),
        trace_parent text,
        parked boolean NOT NULL DEFAULT false,
        parked_at timestamptz
      )`);
    await q.query(
      'CREATE INDEX pending_receipts_by_carrier_key ON pending_receipts (carrier_id, carrier_message_id)',
    );
    await q.query('CREATE INDEX pending_receipts_unparked ON pending_receipts (held_at) WHERE NOT parked');

    // Every correlated receipt, applied or not and why; unique per event so a Kafka redelivery is seen.
    await q.query(`
      CREATE TABLE receipt_history (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        message_id uuid NOT NULL,
        part_index int NOT NULL,
        carrier_id text NOT NULL,
        carrier_message_id text NOT NULL,
        message_state int,
        network_error_code text,
        raw_stat text,
        raw_err text,
        receipt_text text NOT NULL,
        receipt_status text,
        applied boolean NOT NULL,
        outcome text NOT NULL,
        message_status text NOT NULL,
        received_at timestamptz NOT NULL,
        held_at timestamptz,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX receipt_history_by_message ON receipt_history (message_id, received_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE receipt_history');
    await q.query('DROP TABLE pending_receipts');
    await q.query('DROP TABLE message_parts');
    await q.query('DROP TABLE messages');
  }
}
