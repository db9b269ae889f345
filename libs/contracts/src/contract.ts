import { z } from 'zod';

/**
 * A Kafka topic contract: the versioned topic name, how many partitions it has, how records are keyed,
 * and the schema of the payload. Producers validate before sending and consumers validate on receipt,
 * so a bad event is stopped at the edge and sent to the dead-letter topic with a reason.
 *
 * Breaking change = new contract with a new version (and topic); dual-publish while consumers move.
 */
export interface EventContract<TPayload> {
  /** Versioned topic name, e.g. `sms.internal.accepted.otp.v1`. */
  readonly topic: string;
  /** Event type written into the envelope. */
  readonly type: string;
  readonly version: number;
  readonly partitions: number;
  /** Extra topic configs (e.g. compaction for the carrier-health topic). */
  readonly topicConfig?: Readonly<Record<string, string>>;
  /** Describes the key so the contract says which ordering it buys. */
  readonly keyDescription: string;
  /** Derives the record key from an envelope. */
  keyOf(envelope: EventEnvelope<TPayload>): string;
  readonly payload: z.ZodType<TPayload>;
  /** Whether the envelope must carry a messageId (false only for events that precede one). */
  readonly requiresMessageId: boolean;
}

export const envelopeBaseSchema = z.object({
  eventId: z.uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  tenantId: z.string().min(1).max(64),
  messageId: z.uuid().optional(),
});

export type EventEnvelope<TPayload> = z.infer<typeof envelopeBaseSchema> & { payload: TPayload };

export function defineEvent<TSchema extends z.ZodType>(spec: {
  topic: string;
  type: string;
  version: number;
  partitions: number;
  topicConfig?: Record<string, string>;
  keyDescription: string;
  keyOf: (envelope: EventEnvelope<z.infer<TSchema>>) => string;
  payload: TSchema;
  requiresMessageId?: boolean;
}): EventContract<z.infer<TSchema>> {
  return { requiresMessageId: true, ...spec } as EventContract<z.infer<TSchema>>;
}

export type PayloadOf<C> = C extends EventContract<infer P> ? P : never;

/** Keys by message id: every event of one message lands on one partition, in order. */
export function keyByMessageId(envelope: { messageId?: string | undefined; eventId: string }): string {
  return envelope.messageId ?? envelope.eventId;
}

export type ValidationIssue = { path: string; code: string; message: string };

export type EnvelopeValidation<T> =
  | { ok: true; envelope: EventEnvelope<T> }
  | { ok: false; reason: 'schema_violation' | 'wrong_event_type' | 'missing_message_id'; issues: ValidationIssue[] };

// Building the envelope schema is costly (it was a quarter of the router's CPU when done per record).
const envelopeSchemas = new WeakMap<object, z.ZodType>();

function envelopeSchemaOf(contract: EventContract<unknown>): z.ZodType {
  let schema = envelopeSchemas.get(contract);
  if (!schema) {
    schema = envelopeBaseSchema.extend({ payload: contract.payload });
    envelopeSchemas.set(contract, schema);
  }
  return schema;
}

/** Validates a decoded JSON value against the envelope and the contract's payload schema. */
export function validateEnvelope<T>(contract: EventContract<T>, value: unknown): EnvelopeValidation<T> {
  const schema = envelopeSchemaOf(contract as EventContract<unknown>);
  const result = schema.safeParse(value);
  if (!result.success) {
    return {
      ok: false,
      reason: 'schema_violation',
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message })),
    };
  }
  const envelope = result.data as EventEnvelope<T>;
  if (envelope.type !== contract.type || envelope.version !== contract.version) {
    return {
      ok: false,
      reason: 'wrong_event_type',
      issues: [
        {
          path: 'type',
          code: 'wrong_event_type',
          message: `expected ${contract.type} v${contract.version}, got ${envelope.type} v${envelope.version}`,
        },
      ],
    };
  }
  if (contract.requiresMessageId && !envelope.messageId) {
    return {
      ok: false,
      reason: 'missing_message_id',
      issues: [{ path: 'messageId', code: 'missing_message_id', message: 'this event requires a messageId' }],
    };
  }
  return { ok: true, envelope };
}
