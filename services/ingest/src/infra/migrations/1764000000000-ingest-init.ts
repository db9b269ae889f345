import type { MigrationInterface, QueryRunner } from 'typeorm';

export class IngestInit1764000000000 implements MigrationInterface {
  name = 'IngestInit1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id text PRIMARY KEY,
        name text NOT NULL,
        sandbox boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants(id),
        key_hash text NOT NULL UNIQUE,
        key_prefix text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    // The API's read model of each message, kept current from status events.
    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        recipient text NOT NULL,
        sender text NOT NULL,
        body text NOT NULL,
        traffic_class text NOT NULL,
        encoding text NOT NULL,
        segments int NOT NULL,
        callback_url text,
        reference text,
        metadata jsonb,
        status text NOT NULL,
        status_rank int NOT NULL,
        status_reason jsonb,
        valid_until timestamptz NOT NULL,
        send_at timestamptz,
        source text NOT NULL,
        source_event_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at DESC, id)');
    // Kafka send-requests are deduplicated by the producer's event id, per tenant.
    await q.query('CREATE UNIQUE INDEX messages_source_event ON messages (tenant_id, source_event_id) WHERE source_event_id IS NOT NULL');
    await q.query(`
      CREATE TABLE message_status_history (
        event_id uuid PRIMARY KEY,
        message_id uuid NOT NULL,
        status text NOT NULL,
        reason jsonb,
        carrier_id text,
        sequence int NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX status_history_message ON message_status_history (message_id, occurred_at)');
    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        message_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, key)
      )`);
    // Transactional outbox: written in the same transaction as the message, relayed to Kafka after commit.
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        event_id uuid NOT NULL,
        tenant_id text NOT NULL,
        message_id uuid,
        payload jsonb NOT NULL,
        trace_parent text,
        -- Scheduled sends wait in the outbox until their time; the relay only takes due rows.
        available_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX outbox_due ON outbox (available_at, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['outbox', 'idempotency_keys', 'message_status_history', 'messages', 'api_keys', 'tenants']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
