import type { TrafficClass } from '@sms/contracts';
import type { RouteConfig } from '@sms/config';

export interface RouteRequest {
  to: string;
  trafficClass: TrafficClass;
  tenantId: string;
}

export interface RouteDecision {
  routeId: string;
  /** Carriers in failover order. */
  carriers: string[];
  /** Why this rule won (for the status history and the explain API). */
  matchedPrefix?: string;
}

/**
 * In-memory route index. A rule matches when every condition it sets holds; among matches the longest
 * prefix wins, then the most specific rule (more conditions), then file order.
 */
export class RouteTable {
  constructor(private readonly routes: RouteConfig[]) {}

  resolve(request: RouteRequest): RouteDecision | undefined {
    let best: { route: RouteConfig; prefixLength: number; specificity: number; prefix?: string } | undefined;
    for (const route of this.routes) {
      const { prefixes, trafficClasses, tenants } = route.match;
      if (trafficClasses && !trafficClasses.includes(request.trafficClass)) continue;
      if (tenants && !tenants.includes(request.tenantId)) continue;
      let prefix: string | undefined;
      if (prefixes) {
        prefix = prefixes.filter((p) => request.to.startsWith(p)).sort((a, b) => b.length - a.length)[0];
        if (!prefix) continue;
      }
      const candidate = {
        route,
        prefixLength: prefix?.length ?? 0,
        specificity: (trafficClasses ? 1 : 0) + (tenants ? 1 : 0),
        prefix,
      };
      if (
        !best ||
        candidate.prefixLength > best.prefixLength ||
        (candidate.prefixLength === best.prefixLength && candidate.specificity > best.specificity)
      ) {
        best = candidate;
      }
    }
    if (!best) return undefined;
    return { routeId: best.route.id, carriers: [...best.route.carriers], matchedPrefix: best.prefix };
  }
}
