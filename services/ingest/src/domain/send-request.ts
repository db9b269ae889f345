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

/** Validates and normalises a send request; returns every problem at once, each naming its field. */
export function validateSendRequest(
  input: unknown,
  options: { maxSegments: number },
): { ok: true; value: ValidMessage } | { ok: false; problems: FieldProblem[] } {
  const parsed = sendRequestSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.flatMap((issue) => {
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), code: 'unknown_field', message: 'unknown field' }));
        }
        return [{ field: issue.path.join('.') || '(body)', code: issue.code, message: issue.message }];
      }),
    };
  }
  const req = parsed.data;
  const problems: FieldProblem[] = [];

  let to = req.to;
  try {
    const phone = parsePhoneNumberWithError(req.to, req.defaultRegion ? { defaultCountry: req.defaultRegion as CountryCode } : undefined);
    if (!phone.isValid()) problems.push({ field: 'to', code: 'invalid_number', message: 'not a valid phone number' });
    to = phone.number;
  } catch (error) {
    const message =
      !req.to.startsWith('+') && !req.defaultRegion
        ? 'use E.164 (+ and country code), or give defaultRegion for a national number'
        : `not a phone number (${(error as Error).message})`;
    problems.push({ field: 'to', code: 'invalid_number', message });
  }

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

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      to,
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
