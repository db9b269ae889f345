import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox relay's OTP loop takes only OTP rows, in id order. Behind a bulk backlog of hundreds of
 * thousands of rows, the general `(available_at, id)` index would make that query walk the whole backlog
 * to find them; this partial index holds only OTP rows, so the lookup costs the same with or without one.
 */
export class IngestOutboxOtpLane1764600000000 implements MigrationInterface {
  name = 'IngestOutboxOtpLane1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX outbox_otp_due ON outbox (id) WHERE topic = 'sms.internal.accepted.otp.v1'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX outbox_otp_due');
  }
}
