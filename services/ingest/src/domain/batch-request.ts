import { z } from 'zod';
import {
  checkAllButRecipient,
  checkRecipient,
  problemsOfIssues,
  sendRequestSchema,
  validateSendRequest,
  type FieldProblem,
  type ValidMessage,
} from './send-request.js';

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

/** A bare number's `to` is checked by the single message's own schema; the rest by the schema without it. */
const toSchema = sendRequestSchema.shape.to;
const allButRecipientSchema = sendRequestSchema.omit({ to: true });

/**
 * The shared values as every bare-number recipient sees them: parsed, and checked (sender, body encoding
 * and segments, schedule) once per batch instead of once per recipient. The outcome is the one a single
 * message `{ ...shared, to }` would get: its zod problems are those of `to` followed by the shared ones
 * (the schema's key order, `to` first), and its other problems are the number's followed by the shared
 * ones (the order validateSendRequest checks in); `batch-request.spec.ts` proves the equivalence.
 */
function sharedForBareNumbers(shared: Record<string, unknown>, options: { maxSegments: number }) {
  const parsed = allButRecipientSchema.safeParse(shared);
  if (!parsed.success) return { zodProblems: problemsOfIssues(parsed.error.issues) } as const;
  return { zodProblems: [], defaultRegion: parsed.data.defaultRegion, checked: checkAllButRecipient(parsed.data, options) } as const;
}

function validateBareNumber(to: string, shared: ReturnType<typeof sharedForBareNumbers>): { ok: true; value: ValidMessage } | { ok: false; problems: FieldProblem[] } {
  const parsedTo = toSchema.safeParse(to);
  if (!parsedTo.success || !shared.checked) {
    return { ok: false, problems: [...(parsedTo.success ? [] : problemsOfIssues(parsedTo.error.issues, ['to'])), ...shared.zodProblems] };
  }
  const recipient = checkRecipient(to, shared.defaultRegion);
  if (recipient.problems.length > 0 || shared.checked.problems.length > 0) return { ok: false, problems: [...recipient.problems, ...shared.checked.problems] };
  return { ok: true, value: { to: recipient.to, ...shared.checked.value } };
}

export function validateBatchRequest(
  input: unknown,
  options: { maxSegments: number },
): { ok: true; recipients: RecipientOutcome[] } | { ok: false; problems: FieldProblem[] } {
  const parsed = batchEnvelopeSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: problemsOfIssues(parsed.error.issues) };
  const { recipients, ...shared } = input as Record<string, unknown> & { recipients: unknown[] };
  let bareShared: ReturnType<typeof sharedForBareNumbers> | undefined;
  const outcomes = recipients.map((recipient, index): RecipientOutcome => {
    let result: ReturnType<typeof validateSendRequest>;
    if (typeof recipient === 'string') {
      bareShared ??= sharedForBareNumbers(shared, options);
      result = validateBareNumber(recipient, bareShared);
    } else if (recipient === null || typeof recipient !== 'object' || Array.isArray(recipient)) {
      return { index, ok: false, problems: [{ field: `recipients.${index}`, code: 'invalid_type', message: 'a recipient is a number or an object with `to`' }] };
    } else {
      result = validateSendRequest({ ...shared, ...recipient }, options);
    }
    if (result.ok) return { index, ok: true, value: result.value };
    return { index, ok: false, problems: result.problems.map((p) => ({ ...p, field: `recipients.${index}.${p.field}` })) };
  });
  return { ok: true, recipients: outcomes };
}
