import { z } from 'zod';
import { sendRequestSchema, validateSendRequest, type FieldProblem, type ValidMessage } from './send-request.js';

export const MAX_BATCH_RECIPIENTS = 10_000;

/** Values shared by every recipient of a batch; each may be overridden per recipient. */
const sharedFields = sendRequestSchema.omit({ to: true }).partial();

/** A recipient: a bare number, or an object with `to` and any per-recipient values. */
export const batchRecipientSchema = z.union([
  z.string().min(1).max(32),
  sendRequestSchema.partial().required({ to: true }),
]);

/** Body of `POST /v1/messages/batch` as documented; recipients are validated one by one (see below). */
export const batchRequestSchema = sharedFields.extend({
  recipients: z.array(batchRecipientSchema).min(1).max(MAX_BATCH_RECIPIENTS),
});

/**
 * What must hold for the batch as a whole (else 400): shared values well-typed, 1..10,000 recipients.
 * Each recipient is then merged with the shared values and validated like a single message, so one bad
 * recipient is rejected alone and never fails the batch.
 */
const batchEnvelopeSchema = sharedFields.extend({
  recipients: z.array(z.unknown()).min(1).max(MAX_BATCH_RECIPIENTS),
});

export type RecipientOutcome = { index: number; ok: true; value: ValidMessage } | { index: number; ok: false; problems: FieldProblem[] };

export function validateBatchRequest(
  input: unknown,
  options: { maxSegments: number },
): { ok: true; recipients: RecipientOutcome[] } | { ok: false; problems: FieldProblem[] } {
  const parsed = batchEnvelopeSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), code: 'unknown_field', message: 'unknown field' }))
          : [{ field: issue.path.join('.') || '(body)', code: issue.code, message: issue.message }],
      ),
    };
  }
  const { recipients, ...shared } = input as Record<string, unknown> & { recipients: unknown[] };
  const outcomes = recipients.map((recipient, index): RecipientOutcome => {
    const own = typeof recipient === 'string' ? { to: recipient } : recipient;
    if (own === null || typeof own !== 'object' || Array.isArray(own)) {
      return { index, ok: false, problems: [{ field: `recipients.${index}`, code: 'invalid_type', message: 'a recipient is a number or an object with `to`' }] };
    }
    const result = validateSendRequest({ ...shared, ...own }, options);
    if (result.ok) return { index, ok: true, value: result.value };
    return { index, ok: false, problems: result.problems.map((p) => ({ ...p, field: `recipients.${index}.${p.field}` })) };
  });
  return { ok: true, recipients: outcomes };
}
