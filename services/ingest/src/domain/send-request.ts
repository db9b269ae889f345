import { z } from 'zod';
import { parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';
import { analyze } from '@sms/sms-text';
import { trafficClassSchema, type Encoding, type TrafficClass } from '@sms/contracts';

/** Body of `POST /v1/messages` (and the payload of a Kafka send-request). Unknown fields are refused. */
export const sendRequestSchema = z.strictObject({
  to: z.string().min(1).max(32),
  from: z.string().min(1).max(32),
  body: z.string().max(10_000),
  trafficClass: trafficClassSchema.default('transactional'),
  callbackUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  validityPeriod: z.number().int().min(60).max(7 * 24 * 3600).optional(),
  sendAt: z.iso.datetime({ offset: true }).optional(),
  reference: z.string().max(128).optional(),
  metadata: z.record(z.string(), z.string().max(512)).optional(),
  /** Lets national formats through only with an explicit region, e.g. "GB". */
  defaultRegion: z.string().regex(/^[A-Z]{2}$/).optional(),
});
export type SendRequest = z.input<typeof sendRequestSchema>;

export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

export interface ValidMessage {
  to: string;
  from: string;
  body: string;
  trafficClass: TrafficClass;
  encoding: Encoding;
  segments: number;
  callbackUrl?: string;
  validityPeriod?: number;
  sendAt?: string;
  reference?: string;
  metadata?: Record<string, string>;
}

const gsm7SenderPattern = /^[A-Za-z0-9 .\-_&@!?#$%'()*+,/:;<=>]+$/;

type ZodIssues = z.core.$ZodIssue[];

/** zod's issues as field problems; an unknown key is one problem per key, named by its path. */
export function problemsOfIssues(issues: ZodIssues, pathPrefix: readonly PropertyKey[] = []): FieldProblem[] {
  return issues.flatMap((issue) => {
    const path = [...pathPrefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...path, key].join('.'), code: 'unknown_field', message: 'unknown field' }));
    }
    return [{ field: path.join('.') || '(body)', code: issue.code, message: issue.message }];
  });
}

/** Validates and normalises a send request; returns every problem at once, each naming its field. */
export function validateSendRequest(
  input: unknown,
  options: { maxSegments: number },
): { ok: true; value: ValidMessage } | { ok: false; problems: FieldProblem[] } {
  const parsed = sendRequestSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: problemsOfIssues(parsed.error.issues) };
  const req = parsed.data;
  const recipient = checkRecipient(req.to, req.defaultRegion);
  const rest = checkAllButRecipient(req, options);
  const problems = [...recipient.problems, ...rest.problems];
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { to: recipient.to, ...rest.value } };
}

/** A request's values other than `to` once parsed (what every bare number of a batch shares). */
export type ParsedAllButRecipient = Omit<z.output<typeof sendRequestSchema>, 'to'>;

/**
 * The destination: E.164, or a national number only with an explicit region (libphonenumber-js with
 * its full metadata: the number must be a valid number of some type of its country).
 */
export function checkRecipient(to: string, defaultRegion: string | undefined): { to: string; problems: FieldProblem[] } {
  try {
    const phone = parsePhoneNumberWithError(to, defaultRegion ? { defaultCountry: defaultRegion as CountryCode } : undefined);
    if (!phone.isValid()) return { to: phone.number, problems: [{ field: 'to', code: 'invalid_number', message: 'not a valid phone number' }] };
    return { to: phone.number, problems: [] };
  } catch (error) {
    const message =
      !to.startsWith('+') && !defaultRegion
        ? 'use E.164 (+ and country code), or give defaultRegion for a national number'
        : `not a phone number (${(error as Error).message})`;
    return { to, problems: [{ field: 'to', code: 'invalid_number', message }] };
  }
}

/** Sender, body (encoding, segments, length) and schedule: everything of a parsed request but its `to`. */
export function checkAllButRecipient(
  req: ParsedAllButRecipient,
  options: { maxSegments: number },
): { value: Omit<ValidMessage, 'to'>; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const from = req.from;
  if (/^\+?\d+$/.test(from)) {
    if (from.replace('+', '').length > 15) problems.push({ field: 'from', code: 'invalid_sender', message: 'numeric senders have at most 15 digits' });
  } else if (from.length > 11) {
    problems.push({ field: 'from', code: 'invalid_sender', message: 'alphanumeric sender IDs have at most 11 characters' });
  } else if (!gsm7SenderPattern.test(from)) {
    problems.push({ field: 'from', code: 'invalid_sender', message: 'alphanumeric sender IDs use letters, digits and basic GSM-7 punctuation' });
  }

  let encoding: Encoding = 'GSM-7';
  let segments = 1;
  if (req.body.length === 0) {
    problems.push({ field: 'body', code: 'empty_body', message: 'body must not be empty' });
  } else if (req.body.includes('\u0000')) {
    // PostgreSQL text and jsonb cannot hold U+0000: accepted, it failed the insert (a 500 for the whole
    // request) and no carrier would deliver it anyway.
    problems.push({ field: 'body', code: 'invalid_character', message: 'body must not contain U+0000 (NUL)' });
  } else {
    const analysis = analyze(req.body);
    encoding = analysis.encoding;
    segments = analysis.segments;
    if (segments > options.maxSegments) {
      problems.push({
        field: 'body',
        code: 'body_too_long',
        message: `body takes ${segments} ${encoding} segments; the maximum is ${options.maxSegments}`,
      });
    }
  }

  if (req.sendAt) {
    const at = Date.parse(req.sendAt);
    if (at > Date.now() + 35 * 24 * 3600 * 1000) {
      problems.push({ field: 'sendAt', code: 'too_far_ahead', message: 'sendAt may be at most 35 days ahead' });
    }
  }

  return {
    problems,
    value: {
      from,
      body: req.body,
      trafficClass: req.trafficClass,
      encoding,
      segments,
      callbackUrl: req.callbackUrl,
      validityPeriod: req.validityPeriod,
      sendAt: req.sendAt,
      reference: req.reference,
      metadata: req.metadata,
    },
  };
}
