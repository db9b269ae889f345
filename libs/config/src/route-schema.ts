import { z } from 'zod';

/** Routing rules of the gateway file (owned by the router). */
const lanes = ['otp', 'transactional', 'promotional'] as const;

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

export type RouteConfig = z.infer<typeof routeSchema>;
