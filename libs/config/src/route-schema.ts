import { z } from 'zod';

/** Routing rules of the gateway file (owned by the router). */
const lanes = ['otp', 'transactional', 'promotional'] as const;

/**
 * A carrier of a route: a bare id, or `{ id, weight?, cost? }`. Weights split traffic (deterministic per
 * message id); costs make the cheapest healthy carrier the first choice.
 */
const routeCarrierSchema = z.preprocess(
  // A bare id is shorthand for `{ id }` (preprocessed so errors point at the field, not at a union).
  (value) => (typeof value === 'string' ? { id: value } : value),
  z.strictObject({
    id: z.string().min(1),
    weight: z.number().int('a weight is a whole number').min(0, 'a weight is 0 or more').max(1_000_000).optional(),
    cost: z.number().min(0, 'a cost is 0 or more').optional(),
  }),
);

export const routeMatchSchema = z.strictObject({
  /** Destination countries, ISO 3166-1 alpha-2 (the country libphonenumber-js assigns to the number). */
  countries: z.array(z.string().regex(/^[A-Z]{2}$/, 'a country is an ISO 3166 alpha-2 code like GB')).min(1).optional(),
  prefixes: z.array(z.string().regex(/^\+[1-9]\d{0,14}$/, 'a prefix is + and up to 15 digits')).min(1).optional(),
  trafficClasses: z.array(z.enum(lanes)).min(1).optional(),
  tenants: z.array(z.string().min(1)).min(1).optional(),
  /** Sender ids (`from`) exactly as the message carries them. */
  senders: z.array(z.string().min(1).max(16)).min(1).optional(),
});
export type RouteMatch = z.infer<typeof routeMatchSchema>;

export interface RouteCarrierOptions {
  weight?: number;
  cost?: number;
}

export const routeSchema = z
  .strictObject({
    id: z.string().min(1).max(128),
    match: routeMatchSchema.default({}),
    /** Ordered list: the first healthy carrier is used, the next ones are failover. */
    carriers: z.array(routeCarrierSchema).min(1),
  })
  .superRefine((route, ctx) => {
    const entries = route.carriers;
    const weighted = entries.filter((c) => c.weight !== undefined).length;
    if (weighted > 0 && weighted < entries.length) {
      entries.forEach((c, j) => {
        if (c.weight === undefined) {
          ctx.addIssue({ code: 'custom', path: ['carriers', j], message: 'weights are all or none: this carrier has no weight' });
        }
      });
    }
    if (weighted > 0 && entries.every((c) => (c.weight ?? 0) === 0)) {
      ctx.addIssue({ code: 'custom', path: ['carriers'], message: 'at least one weight must be above 0' });
    }
    const seen = new Set<string>();
    entries.forEach((c, j) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['carriers', j], message: `carrier ${c.id} is listed twice` });
      seen.add(c.id);
    });
  })
  .transform((route) => {
    // Normalised so `carriers` stays a list of ids (what carrier-dispatch and the file checks read).
    const options: Record<string, RouteCarrierOptions> = {};
    const carriers = route.carriers.map((c) => {
      if (c.weight !== undefined || c.cost !== undefined) options[c.id] = { weight: c.weight, cost: c.cost };
      return c.id;
    });
    return { id: route.id, match: route.match, carriers, carrierOptions: options };
  });

export type RouteConfig = z.infer<typeof routeSchema>;

/** The same conditions, written in a canonical form (order of list items does not matter). */
function matchKey(match: RouteMatch): string {
  const sorted = (values?: readonly string[]) => (values ? [...values].sort().join(',') : '*');
  return [match.countries, match.prefixes, match.trafficClasses, match.tenants, match.senders].map(sorted).join('|');
}

/** The routes list: two rules with identical conditions are a duplicate (only file order would pick one). */
export const routesSchema = z.array(routeSchema).superRefine((routes, ctx) => {
  const byKey = new Map<string, string>();
  routes.forEach((route, i) => {
    const key = matchKey(route.match);
    const first = byKey.get(key);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule: route ${route.id} has the same conditions as route ${first}` });
    } else {
      byKey.set(key, route.id);
    }
  });
});
