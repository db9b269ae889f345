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

export const carrierSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and dashes'),
  protocol: z.literal('smpp'),
  smpp: smppCarrierSchema,
  /** Messages per second the carrier allows (across all replicas). */
  mps: z.number().positive().default(1000),
  /** Sandbox traffic may only go to carriers marked as simulators. */
  simulator: z.boolean().default(false),
});

export type CarrierConfig = z.infer<typeof carrierSchema>;
