import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';

/**
 * The carriers-and-routes file (YAML or JSON). The same file is mounted from a Helm ConfigMap in
 * Kubernetes; router reads the routes, carrier-dispatch the carriers. Validated at start with errors that
 * name the key and line.
 */
const lanes = ['otp', 'transactional', 'promotional'] as const;

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

export const routeSchema = z.strictObject({
  id: z.string().min(1).max(128),
  match: z
    .strictObject({
      prefixes: z.array(z.string().regex(/^\+\d{1,15}$/, 'a prefix is + and digits')).optional(),
      trafficClasses: z.array(z.enum(lanes)).optional(),
      tenants: z.array(z.string().min(1)).optional(),
    })
    .default({}),
  /** Ordered list: the first healthy carrier is used, the next ones are failover. */
  carriers: z.array(z.string().min(1)).min(1),
});

export const gatewayFileSchema = z
  .strictObject({
    carriers: z.array(carrierSchema).min(1),
    routes: z.array(routeSchema),
  })
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    file.carriers.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['carriers', i, 'id'], message: `duplicate carrier id ${c.id}` });
      ids.add(c.id);
    });
    const routeIds = new Set<string>();
    file.routes.forEach((r, i) => {
      if (routeIds.has(r.id)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'id'], message: `duplicate route id ${r.id}` });
      routeIds.add(r.id);
      r.carriers.forEach((c, j) => {
        if (!ids.has(c)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'carriers', j], message: `unknown carrier ${c}` });
      });
    });
  });

export type GatewayFile = z.infer<typeof gatewayFileSchema>;
export type CarrierConfig = z.infer<typeof carrierSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;

export class GatewayFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid gateway config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'GatewayFileError';
  }
}

/** Parses and validates the file text; problems name the key path and, where known, the line. */
export function parseGatewayFile(text: string, file = '<gateway config>'): GatewayFile {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new GatewayFileError(file, doc.errors.map((e) => e.message));
  const result = gatewayFileSchema.safeParse(doc.toJS());
  if (!result.success) {
    const lineOf = (path: PropertyKey[]): string => {
      const node = doc.getIn(path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
      if (!node?.range) return '';
      const line = text.slice(0, node.range[0]).split('\n').length;
      return ` (line ${line})`;
    };
    throw new GatewayFileError(
      file,
      result.error.issues.map((i) => `${i.path.join('.') || '<root>'}${lineOf(i.path)}: ${i.message}`),
    );
  }
  return result.data;
}

export function loadGatewayFile(path: string): GatewayFile {
  return parseGatewayFile(readFileSync(path, 'utf8'), path);
}
