import { z } from 'zod';

/** Carrier declarations of the gateway file (owned by carrier-dispatch; the router reads ids and flags). */
export const smppCarrierSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  tls: z.boolean().default(false),
  systemId: z.string().min(1).max(16),
  password: z.string().max(9),
  systemType: z.string().max(13).default(''),
  window: z.number().int().min(1).max(1000).default(50),
  responseTimeoutMs: z.number().int().min(100).default(10000),
  enquireLinkIntervalMs: z.number().int().min(1000).default(30000),
  /** How long parts are concatenated for this carrier. */
  concat: z.enum(['udh8', 'udh16', 'sar', 'payload']).default('udh8'),
  sourceTon: z.number().int().min(0).max(6).default(5),
  sourceNpi: z.number().int().min(0).max(18).default(0),
  destTon: z.number().int().min(0).max(6).default(1),
  destNpi: z.number().int().min(0).max(18).default(1),
  /** Binds per lane: OTP never shares a bind with promotional. */
  binds: z
    .strictObject({
      otp: z.number().int().min(0).max(16).default(1),
      transactional: z.number().int().min(0).max(16).default(1),
      promotional: z.number().int().min(0).max(16).default(1),
    })
    .default({ otp: 1, transactional: 1, promotional: 1 }),
});

/** Requests in flight per lane (the HTTP counterpart of binds x window); 0 = the carrier takes no traffic of that lane. */
const httpLanesSchema = z
  .strictObject({
    otp: z.number().int().min(0).max(1000).default(20),
    transactional: z.number().int().min(0).max(1000).default(20),
    promotional: z.number().int().min(0).max(1000).default(20),
  })
  .default({ otp: 20, transactional: 20, promotional: 20 });

/** A JSON path into the carrier's answer: dot-separated keys, e.g. `data.id` or `messages.0.id`. */
const jsonPath = z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'dot-separated keys, e.g. data.id');

export const httpCarrierSchema = z.strictObject({
  /** The carrier's submit endpoint. */
  url: z.url({ protocol: /^https?$/ }),
  auth: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('none') }),
      z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
      z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }),
      z.strictObject({ type: z.literal('header'), name: z.string().regex(/^[A-Za-z0-9-]+$/), value: z.string().min(1) }),
    ])
    .default({ type: 'none' }),
  timeoutMs: z.number().int().min(100).default(10000),
  lanes: httpLanesSchema,
  request: z
    .strictObject({
      /** JSON body or an HTML form. */
      format: z.enum(['json', 'form']).default('json'),
      /** The carrier's names for our fields; a field without a name is not sent. */
      fields: z
        .strictObject({
          to: z.string().min(1).default('to'),
          from: z.string().min(1).default('from'),
          text: z.string().min(1).default('text'),
          reference: z.string().min(1).optional(),
          validUntil: z.string().min(1).optional(),
        })
        .default({ to: 'to', from: 'from', text: 'text' }),
      /** Numbers without the leading `+` (most carriers want bare E.164 digits). */
      stripPlus: z.boolean().default(false),
      /** Constant fields the carrier requires (account ids, flags). */
      static: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    })
    .default({ format: 'json', fields: { to: 'to', from: 'from', text: 'text' }, stripPlus: false, static: {} }),
  response: z
    .strictObject({
      messageIdPath: jsonPath.default('messageId'),
      /** Where a failed answer carries the carrier's own error code (looked up in `errors`). */
      errorCodePath: jsonPath.optional(),
    })
    .default({ messageIdPath: 'messageId' }),
  /** The carrier's error codes that mean something for the message, overriding the HTTP status verdict. */
  errors: z
    .record(
      z.string().min(1),
      z.strictObject({
        disposition: z.enum(['retry', 'failover', 'permanent']),
        reason: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a snake_case reason code'),
      }),
    )
    .default({}),
});

const carrierCommon = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and dashes'),
  /** Messages per second the carrier allows (across all replicas). */
  mps: z.number().positive().default(1000),
  /** Sandbox traffic may only go to carriers marked as simulators. */
  simulator: z.boolean().default(false),
};

export const carrierSchema = z.discriminatedUnion('protocol', [
  z.strictObject({ ...carrierCommon, protocol: z.literal('smpp'), smpp: smppCarrierSchema }),
  z.strictObject({ ...carrierCommon, protocol: z.literal('http'), http: httpCarrierSchema }),
]);

export type CarrierConfig = z.infer<typeof carrierSchema>;
export type SmppCarrierConfig = Extract<CarrierConfig, { protocol: 'smpp' }>;
export type HttpCarrierConfig = Extract<CarrierConfig, { protocol: 'http' }>;
