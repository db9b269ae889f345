import { z } from 'zod';

/**
 * Dead-letter topic: a consumed record that could not be processed (undecodable, schema violation, a
 * handler that failed permanently). The original bytes travel unchanged as the record value; the reason
 * and origin travel in headers, so the topic never rejects what it is given.
 */
export const DEAD_LETTER_TOPIC = 'sms.dead-letter.v1';
export const DEAD_LETTER_PARTITIONS = 3;

export const deadLetterHeaders = {
  reason: 'dlq-reason',
  detail: 'dlq-detail',
  originTopic: 'dlq-origin-topic',
  originPartition: 'dlq-origin-partition',
  originOffset: 'dlq-origin-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;

export const deadLetterReasonSchema = z.enum([
  'invalid_json',
  'schema_violation',
  'wrong_event_type',
  'missing_message_id',
  'handler_failed',
  'permanent_error',
]);
export type DeadLetterReason = z.infer<typeof deadLetterReasonSchema>;
