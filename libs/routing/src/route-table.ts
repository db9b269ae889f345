import { getCountries, getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

/**
 * The traffic classes (lanes). Declared here rather than imported from @sms/contracts so this library stays
 * pure (no schema library): the contracts' zod enum infers to exactly this union.
 */
export type TrafficClass = 'otp' | 'transactional' | 'promotional';

/** A rule's conditions; every one that is set must hold. */
export interface RouteMatch {
  readonly countries?: readonly string[];
  readonly prefixes?: readonly string[];
  readonly trafficClasses?: readonly TrafficClass[];
  readonly tenants?: readonly string[];
  readonly senders?: readonly string[];
}

/**
 * One routing rule, as @sms/config's `routesSchema` produces it once validated (structurally the same type,
 * so a parsed config passes straight in; validation itself stays in the config library).
 */
export interface RouteConfig {
  readonly id: string;
  readonly match: RouteMatch;
  /** Carrier ids in file order. */
  readonly carriers: readonly string[];
  readonly carrierOptions: Readonly<Record<string, { readonly weight?: number; readonly cost?: number } | undefined>>;
}

export interface RouteRequest {
  to: string;
  trafficClass: TrafficClass;
  tenantId: string;
  /** Sender id as the message carries it. */
  from?: string;
  /** Weighted routes pick by message id, so a redelivery or a retry lands on the same carrier. */
  messageId?: string;
  /** Sandbox messages only go to simulator carriers. */
  sandbox?: boolean;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** What the router knows of carrier health (breaker state per carrier and lane). */
export interface CarrierHealthView {
  breaker(carrierId: string, lane: TrafficClass): BreakerState | undefined;
}

export const allHealthy: CarrierHealthView = { breaker: () => undefined };

export interface CarrierInfo {
  id: string;
  simulator: boolean;
}

export type SkipReason = 'breaker_open' | 'not_simulator';

export interface RouteDecision {
  routeId: string;
  /** Carriers in attempt order (first choice, then failover); empty when every carrier was skipped. */
  carriers: string[];
  /** How the first choice was made. */
  strategy: 'ordered' | 'weighted' | 'cheapest';
  skipped: { carrierId: string; reason: SkipReason }[];
  /** Every carrier's breaker is open: they are tried anyway, in order (health may be stale). */
  allBreakersOpen: boolean;
  matchedPrefix?: string;
  /** The number's country, when a country rule could match it (otherwise not looked up). */
  country?: string;
  /** The rule's conditions, for the status history and the explain API. */
  conditions: string;
}

export interface RuleVerdict {
  routeId: string;
  matched: boolean;
  /** Why the rule did not match, or what it matched on. */
  detail: string;
}

export interface Explanation {
  request: Omit<RouteRequest, 'to'> & { to: string; country?: string };
  decision?: RouteDecision;
  rules: RuleVerdict[];
}

interface Candidate {
  route: RouteConfig;
  prefix?: string;
  specificity: number;
}

/**
 * In-memory route index. A rule matches when every condition it sets holds; among matches the longest
 * prefix wins, then the most specific rule (more conditions set), then file order. Immutable: a config
 * reload builds a new table and swaps it in one assignment.
 */
export class RouteTable {
  private readonly carriers: Map<string, CarrierInfo>;
  /**
   * `+<calling code>` of every country some rule names: a number starting with none of them cannot match a
   * country rule, so its country is not looked up at all.
   */
  private readonly countryPrefixes: readonly string[];

  constructor(
    private readonly routes: readonly RouteConfig[],
    carriers: readonly CarrierInfo[] = [],
  ) {
    this.carriers = new Map(carriers.map((c) => [c.id, c]));
    const codes = new Set(routes.flatMap((r) => r.match.countries ?? []).map(callingCodeOf));
    this.countryPrefixes = [...codes].filter((c) => c !== undefined).map((c) => `+${c}`);
  }

  get size(): number {
    return this.routes.length;
  }

  resolve(request: RouteRequest, health: CarrierHealthView = allHealthy): RouteDecision | undefined {
    const country = this.countryPrefixes.some((p) => request.to.startsWith(p)) ? countryOf(request.to) : undefined;
    let best: Candidate | undefined;
    for (const route of this.routes) {
      const candidate = matchRoute(route, request, country);
      if (typeof candidate === 'string') continue;
      if (better(candidate, best)) best = candidate;
    }
    return best ? this.decide(best, request, health, country) : undefined;
  }

  /** The same decision as `resolve`, with the verdict of every rule. */
  explain(request: RouteRequest, health: CarrierHealthView = allHealthy): Explanation {
    const country = countryOf(request.to);
    const rules: RuleVerdict[] = [];
    let best: Candidate | undefined;
    for (const route of this.routes) {
      const candidate = matchRoute(route, request, country);
      if (typeof candidate === 'string') {
        rules.push({ routeId: route.id, matched: false, detail: candidate });
        continue;
      }
      rules.push({ routeId: route.id, matched: true, detail: describe(route, candidate.prefix) });
      if (better(candidate, best)) best = candidate;
    }
    return {
      request: { ...request, country },
      decision: best ? this.decide(best, request, health, country) : undefined,
      rules,
    };
  }

  private decide(best: Candidate, request: RouteRequest, health: CarrierHealthView, country: string | undefined): RouteDecision {
    const route = best.route;
    const { order, strategy } = carrierOrder(route, request.messageId);
    const skipped: RouteDecision['skipped'] = [];
    let usable = order;
    if (request.sandbox) {
      usable = usable.filter((id) => {
        const ok = this.carriers.get(id)?.simulator === true;
        if (!ok) skipped.push({ carrierId: id, reason: 'not_simulator' });
        return ok;
      });
    }
    const states = usable.map((id) => ({ id, state: health.breaker(id, request.trafficClass) }));
    const closed = states.filter((s) => s.state !== 'open' && s.state !== 'half_open').map((s) => s.id);
    // Half-open carriers stay in the list, after the closed ones: carrier-dispatch's breaker lets its
    // probe submits through and fails the rest fast, which the router turns into failover.
    const halfOpen = states.filter((s) => s.state === 'half_open').map((s) => s.id);
    const open = states.filter((s) => s.state === 'open').map((s) => s.id);
    let carriers = [...closed, ...halfOpen];
    const allBreakersOpen = carriers.length === 0 && open.length > 0;
    if (allBreakersOpen) {
      carriers = open;
    } else {
      for (const id of open) skipped.push({ carrierId: id, reason: 'breaker_open' });
    }
    return {
      routeId: route.id,
      carriers,
      strategy,
      skipped,
      allBreakersOpen,
      matchedPrefix: best.prefix,
      country,
      conditions: describe(route, best.prefix),
    };
  }
}

/** The candidate, or why the rule does not match. */
function matchRoute(route: RouteConfig, request: RouteRequest, country: string | undefined): Candidate | string {
  const { prefixes, trafficClasses, tenants, senders, countries } = route.match;
  if (trafficClasses && !trafficClasses.includes(request.trafficClass)) return `traffic class ${request.trafficClass} not in [${trafficClasses.join(', ')}]`;
  if (tenants && !tenants.includes(request.tenantId)) return `tenant ${request.tenantId} not in [${tenants.join(', ')}]`;
  if (senders && (request.from === undefined || !senders.includes(request.from))) return `sender not in [${senders.join(', ')}]`;
  if (countries && (country === undefined || !countries.includes(country))) return `country ${country ?? 'unknown'} not in [${countries.join(', ')}]`;
  let prefix: string | undefined;
  if (prefixes) {
    for (const p of prefixes) if (request.to.startsWith(p) && (prefix === undefined || p.length > prefix.length)) prefix = p;
    if (prefix === undefined) return `number does not start with any of [${prefixes.join(', ')}]`;
  }
  const specificity = [trafficClasses, tenants, senders, countries].filter((c) => c !== undefined).length;
  return { route, prefix, specificity };
}

function better(candidate: Candidate, best: Candidate | undefined): boolean {
  if (!best) return true;
  const a = candidate.prefix?.length ?? 0;
  const b = best.prefix?.length ?? 0;
  return a > b || (a === b && candidate.specificity > best.specificity);
}

function describe(route: RouteConfig, prefix: string | undefined): string {
  const m = route.match;
  const parts: string[] = [];
  if (prefix) parts.push(`prefix ${prefix}`);
  if (m.countries) parts.push(`country ${m.countries.join('|')}`);
  if (m.trafficClasses) parts.push(`class ${m.trafficClasses.join('|')}`);
  if (m.tenants) parts.push(`tenant ${m.tenants.join('|')}`);
  if (m.senders) parts.push(`sender ${m.senders.join('|')}`);
  return parts.length > 0 ? parts.join(', ') : 'catch-all';
}

/**
 * Attempt order of a route's carriers. Weighted: one carrier is picked by a hash of the message id (stable
 * across redeliveries and retries), the others follow by weight. Cheapest: by cost, uncosted last.
 * Otherwise file order.
 */
export function carrierOrder(route: RouteConfig, messageId: string | undefined): { order: string[]; strategy: RouteDecision['strategy'] } {
  const options = route.carrierOptions;
  const weights = route.carriers.map((id) => options[id]?.weight);
  if (weights.some((w) => w !== undefined)) {
    const total = weights.reduce<number>((sum, w) => sum + (w ?? 0), 0);
    let point = hash32(messageId ?? '') % total;
    let picked = route.carriers[0]!;
    for (const [i, id] of route.carriers.entries()) {
      const w = weights[i] ?? 0;
      if (point < w) {
        picked = id;
        break;
      }
      point -= w;
    }
    const rest = route.carriers
      .filter((id) => id !== picked)
      .sort((a, b) => (options[b]?.weight ?? 0) - (options[a]?.weight ?? 0));
    return { order: [picked, ...rest], strategy: 'weighted' };
  }
  if (route.carriers.some((id) => options[id]?.cost !== undefined)) {
    const cost = (id: string) => options[id]?.cost ?? Number.POSITIVE_INFINITY;
    return { order: [...route.carriers].sort((a, b) => (cost(a) === cost(b) ? 0 : cost(a) - cost(b))), strategy: 'cheapest' };
  }
  return { order: [...route.carriers], strategy: 'ordered' };
}

/** FNV-1a: cheap, well spread over uuids, identical in every replica and every release. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Geographic calling codes (without `+`) to the countries that share them, from libphonenumber's metadata. */
const countriesByCallingCode = new Map<string, CountryCode[]>();
for (const country of getCountries()) {
  const code = getCountryCallingCode(country);
  const list = countriesByCallingCode.get(code);
  if (list) list.push(country);
  else countriesByCallingCode.set(code, [country]);
}

/** The calling code (1-3 digits, without `+`) a country's numbers start with; undefined for an unknown code. */
export function callingCodeOf(country: string): string | undefined {
  try {
    return getCountryCallingCode(country as CountryCode);
  } catch {
    return undefined;
  }
}

const E164_DIGITS = /^\+\d+$/;

/**
 * ISO country of a number as libphonenumber-js assigns it (undefined for unassigned ranges).
 *
 * Full parsing costs ~10 µs a number, a large share of routing one message. For a calling code that only
 * one country uses (e.g. +33), libphonenumber assigns that country to any number of a viable length (2 to
 * 17 national digits) without looking further, so the same answer is computed here from the code alone;
 * shared codes (+1, +44, +7, ...) and anything unusual go through the full parse. The spec checks the two
 * agree over generated numbers of every calling code.
 */
export function countryOf(to: string): string | undefined {
  if (E164_DIGITS.test(to)) {
    for (let length = 1; length <= 3 && length < to.length; length++) {
      const countries = countriesByCallingCode.get(to.slice(1, 1 + length));
      if (!countries) continue;
      const national = to.length - 1 - length;
      if (countries.length === 1 && national >= 2 && national <= 17) return countries[0];
      break;
    }
  }
  return parsePhoneNumberFromString(to)?.country;
}
